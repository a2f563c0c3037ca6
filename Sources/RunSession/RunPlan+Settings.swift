import Foundation
import ReferenceServer
import Replay
import VoiceTransport

extension RunPlan {
    /// Settings for every transport of a side: its URL, or the embedded server's endpoint (at a
    /// dialect file's own path when one is given), trusting `embeddedCA` for its certificate.
    /// - Parameter loops: the I/O loops the transports run on.
    package func settings(
        for side: RunPlan.Side, server: RunningReferenceServer?, embeddedCA: String?,
        loops: IOLoopGroup
    ) throws -> [TransportSettings] {
        try kinds.map { kind -> TransportSettings in
            let file = dialectFiles[kind]
            var url: String
            if let given = side.urls[kind] {
                url = given
            } else if let server {
                url = kind.referenceURL(on: server, path: file?.path)
            } else {
                throw RunInputError("\(kind) has no endpoint: give \(kind.urlOption)")
            }
            if let parameter = kind.modelQueryParameter, let model = models[kind] {
                url = URLQuery.setting(url, parameter, to: model)
            }
            let endpoint: Endpoint
            do throws(TransportError) {
                endpoint = try Endpoint(url, for: kind, flag: "--url \(kind)=")
            } catch {
                throw RunInputError(error.message)
            }
            var settings = TransportSettings(
                kind: kind, endpoint: endpoint, headers: headers[kind] ?? [], connection: connection,
                verifyTLS: verifyTLS,
                caFile: embeddedCA ?? caFile, redactor: redactor, dialectFile: file, model: models[kind],
                voice: voices[kind], turnDetection: turnDetection, loops: loops)
            settings.variant = side.variant
            settings.webRTC = webRTC
            return settings
        }
    }
}

import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import X509

/// A certificate authority made at start for the reference server's TLS: a CA certificate (what
/// a client trusts with `--cacert`) and a server certificate it signed for `localhost`,
/// 127.0.0.1 and ::1. Nothing leaves the machine; a new pair is made every time.
package struct LocalCertificateAuthority: Sendable {
    /// The CA certificate, PEM: trust it to talk to the server.
    package let caPEM: String
    /// The server's certificate, PEM.
    package let certificatePEM: String
    /// The server's private key, PEM.
    package let keyPEM: String

    package init() throws {
        let now = Date()
        let caKey = P256.Signing.PrivateKey()
        let caName = try DistinguishedName {
            OrganizationName("ttfa")
            CommonName("ttfa reference server local CA")
        }
        let ca = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(caKey.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(30 * 86_400),
            issuer: caName, subject: caName, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: .init(caKey))
        let serverKey = P256.Signing.PrivateKey()
        let server = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(serverKey.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(30 * 86_400),
            issuer: caName, subject: try DistinguishedName { CommonName("localhost") },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames([
                    .dnsName("localhost"),
                    .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])),
                    .ipAddress(ASN1OctetString(contentBytes: ArraySlice([UInt8](repeating: 0, count: 15) + [1]))),
                ])
            },
            issuerPrivateKey: .init(caKey))
        caPEM = try ca.serializeAsPEM().pemString
        certificatePEM = try server.serializeAsPEM().pemString
        keyPEM = serverKey.pemRepresentation
    }

    /// Writes the CA certificate to a new file in the temporary folder; returns its path.
    package func writeCA() throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "ttfa-reference-ca-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8)).pem")
        try Data(caPEM.utf8).write(to: url)
        return url.path
    }
}

/// The server's TLS identity: made at start, or read from files.
package struct ServerTLS: Sendable {
    package var certificatePEM: String
    package var keyPEM: String
    /// The CA that signed the certificate, when ttfa made it (nil for supplied files).
    package var authority: LocalCertificateAuthority?

    /// A certificate made at start by a local CA.
    package static func generated() throws -> ServerTLS {
        let authority = try LocalCertificateAuthority()
        return ServerTLS(certificatePEM: authority.certificatePEM, keyPEM: authority.keyPEM, authority: authority)
    }

    /// A certificate (chain) and key from PEM files.
    package static func files(certificate: String, key: String) throws(ReferenceServerError) -> ServerTLS {
        guard let cert = FileManager.default.contents(atPath: certificate) else {
            throw ReferenceServerError(message: "--cert \(certificate): no readable PEM file there")
        }
        guard let keyData = FileManager.default.contents(atPath: key) else {
            throw ReferenceServerError(message: "--key \(key): no readable PEM file there")
        }
        return ServerTLS(
            certificatePEM: String(decoding: cert, as: UTF8.self), keyPEM: String(decoding: keyData, as: UTF8.self),
            authority: nil)
    }

    /// NIOSSL's server configuration: HTTP/1.1 only (a WebSocket upgrade needs it).
    func configuration() throws -> TLSConfiguration {
        let chain: [NIOSSLCertificateSource]
        let key: NIOSSLPrivateKey
        do {
            chain = try NIOSSLCertificate.fromPEMBytes(Array(certificatePEM.utf8)).map { .certificate($0) }
        } catch {
            throw ReferenceServerError(message: "the TLS certificate is not a readable PEM certificate (\(error))")
        }
        do {
            key = try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem)
        } catch {
            throw ReferenceServerError(message: "the TLS key is not a readable PEM private key (\(error))")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain, privateKey: .privateKey(key))
        configuration.applicationProtocols = ["http/1.1"]
        return configuration
    }
}

import Foundation

/// Keeps secrets out of everything ttfa prints or stores.
///
/// Header values given on the command line (API keys, tokens, and whatever `$VAR` expanded to)
/// are registered as secrets; any text that leaves the process — error messages, logs, the
/// stored command line, URLs — passes through `redact(_:)`. Credential-looking URL query
/// parameters and URL passwords are masked by `redactURL(_:)`.
package struct SecretRedactor: Sendable {
    package static let mask = "***"

    /// Query parameter names whose values are treated as credentials (compared
    /// case-insensitively, ignoring `-` and `_`).
    package static let credentialParameterNames: Set<String> = [
        "key", "apikey", "accesstoken", "token", "secret", "clientsecret", "password", "passwd", "pwd",
        "auth", "authorization", "signature", "sig", "session", "sessiontoken", "idtoken", "refreshtoken",
        "bearer", "jwt", "code", "xapikey", "credential", "credentials",
    ]

    /// Literal secret values (at least 4 characters; shorter values would mask unrelated text).
    package private(set) var secrets: [String] = []

    package init(secrets: [String] = []) {
        for secret in secrets { add(secret) }
    }

    package mutating func add(_ secret: String) {
        let trimmed = secret.trimmingCharacters(in: .whitespaces)
        guard trimmed.count >= 4, !secrets.contains(trimmed) else { return }
        secrets.append(trimmed)
        // A bearer token also appears without its scheme.
        if let space = trimmed.firstIndex(of: " ") {
            add(String(trimmed[trimmed.index(after: space)...]))
        }
        secrets.sort { $0.count > $1.count }
    }

    /// Registers the values of credential-looking query parameters and the password of `url`,
    /// so they are masked wherever they turn up (an error message that echoes a key, say).
    package mutating func addCredentials(fromURL url: String) {
        guard let components = URLComponents(string: url) else { return }
        if let password = components.password { add(password) }
        for item in components.queryItems ?? [] where Self.isCredentialName(item.name) {
            if let value = item.value { add(value) }
        }
    }

    /// `text` with every registered secret replaced by `***`.
    package func redact(_ text: String) -> String {
        var result = text
        for secret in secrets where result.contains(secret) {
            result = result.replacingOccurrences(of: secret, with: Self.mask)
        }
        return result
    }

    /// A URL with credential query values, the userinfo password and registered secrets masked.
    package func redactURL(_ url: String) -> String {
        redact(Self.redactURLStructure(url))
    }

    static func isCredentialName(_ name: String) -> Bool {
        let normalized = name.lowercased().replacingOccurrences(of: "_", with: "").replacingOccurrences(
            of: "-", with: "")
        return credentialParameterNames.contains(normalized)
    }

    private static func redactURLStructure(_ url: String) -> String {
        guard var components = URLComponents(string: url) else { return url }
        if components.password != nil { components.password = mask }
        if let items = components.percentEncodedQueryItems {
            components.percentEncodedQueryItems = items.map { item in
                isCredentialName(item.name) && item.value != nil ? URLQueryItem(name: item.name, value: mask) : item
            }
        }
        return components.string ?? url
    }
}

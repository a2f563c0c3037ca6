// The three libcrypto calls the WebSocket client needs: random bytes, SHA-1, OpenSSL's version.
// Only Sources/VoiceTransport/Crypto/Crypto.swift imports this module.
#ifndef TTFA_CCRYPTO_SHIM_H
#define TTFA_CCRYPTO_SHIM_H

#include <openssl/rand.h>
#include <openssl/evp.h>
#include <openssl/crypto.h>
#include <openssl/opensslv.h>

static inline int ttfa_random_bytes(unsigned char *buf, int n) { return RAND_bytes(buf, n); }

/// SHA-1 of `len` bytes into `out` (20 bytes). Returns 1 on success.
static inline int ttfa_sha1(const void *data, size_t len, unsigned char *out) {
    unsigned int outlen = 0;
    return EVP_Digest(data, len, out, &outlen, EVP_sha1(), NULL);
}

static inline const char *ttfa_openssl_version(void) { return OpenSSL_version(OPENSSL_VERSION); }

#endif

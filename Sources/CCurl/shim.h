// Typed wrappers for libcurl's variadic and macro APIs, which Swift cannot call directly.
// Only Sources/VoiceTransport/Curl/CurlEasy.swift and CurlMulti.swift import this module.
#ifndef TTFA_CCURL_SHIM_H
#define TTFA_CCURL_SHIM_H

#include <curl/curl.h>
#include <stdint.h>

static inline CURLcode ttfa_curl_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode ttfa_curl_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode ttfa_curl_setopt_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode ttfa_curl_setopt_pointer(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode ttfa_curl_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }

typedef size_t (*ttfa_curl_data_callback)(char *ptr, size_t size, size_t nmemb, void *userdata);
typedef int (*ttfa_curl_xferinfo_callback)(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow);

static inline CURLcode ttfa_curl_setopt_data_callback(CURL *h, CURLoption o, ttfa_curl_data_callback cb) { return curl_easy_setopt(h, o, cb); }
static inline CURLcode ttfa_curl_setopt_xferinfo(CURL *h, ttfa_curl_xferinfo_callback cb) { return curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, cb); }

static inline CURLcode ttfa_curl_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode ttfa_curl_getinfo_off(CURL *h, CURLINFO i, curl_off_t *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode ttfa_curl_getinfo_string(CURL *h, CURLINFO i, char **v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode ttfa_curl_getinfo_socket(CURL *h, curl_socket_t *v) { return curl_easy_getinfo(h, CURLINFO_ACTIVESOCKET, v); }

typedef int (*ttfa_curl_socket_callback)(CURL *easy, curl_socket_t s, int what, void *clientp, void *socketp);
typedef int (*ttfa_curl_timer_callback)(CURLM *multi, long timeout_ms, void *clientp);

/// Puts a multi handle in socket mode: libcurl says which sockets to watch and when to call
/// back, the caller's event loop does the waiting.
static inline void ttfa_curl_multi_socket_mode(CURLM *m, ttfa_curl_socket_callback socket_cb, ttfa_curl_timer_callback timer_cb, void *clientp) {
    curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(m, CURLMOPT_SOCKETDATA, clientp);
    curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(m, CURLMOPT_TIMERDATA, clientp);
}
static inline void ttfa_curl_multi_maxconnects(CURLM *m, long n) { curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, n); }

static const int TTFA_CURL_POLL_IN = CURL_POLL_IN;
static const int TTFA_CURL_POLL_OUT = CURL_POLL_OUT;
static const int TTFA_CURL_POLL_REMOVE = CURL_POLL_REMOVE;
static const int TTFA_CURL_CSELECT_IN = CURL_CSELECT_IN;
static const int TTFA_CURL_CSELECT_OUT = CURL_CSELECT_OUT;
static const int TTFA_CURL_CSELECT_ERR = CURL_CSELECT_ERR;
static const curl_socket_t TTFA_CURL_SOCKET_TIMEOUT = CURL_SOCKET_TIMEOUT;

static inline CURLcode ttfa_curl_global_init(void) { return curl_global_init(CURL_GLOBAL_DEFAULT); }
static inline const char *ttfa_curl_version_string(void) { return curl_version_info(CURLVERSION_NOW)->version; }

static const long TTFA_CURL_HTTP_VERSION_1_1 = CURL_HTTP_VERSION_1_1;
static const size_t TTFA_CURL_READFUNC_PAUSE = CURL_READFUNC_PAUSE;
static const int TTFA_CURLPAUSE_CONT = CURLPAUSE_CONT;

#endif

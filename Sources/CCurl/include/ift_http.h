// HTTP(S) GET through libcurl, opened with dlopen when the first download starts, so the engine
// carries no TLS or HTTP code of its own and a binary without libcurl still runs everything else.
#ifndef IFT_HTTP_H
#define IFT_HTTP_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Receives each piece of the body; returns 0 to go on, non-zero to stop the transfer.
typedef int (*ift_http_body_fn)(void *context, const void *bytes, size_t count);
/// Called as bytes arrive: the expected total (0 when unknown) and the bytes so far.
typedef void (*ift_http_progress_fn)(void *context, long long total, long long received);

/// GETs `url` (following redirects), passing the body to `body`. Returns 0 when the whole body
/// arrived with HTTP status < 400; otherwise writes what went wrong (libcurl missing, connection,
/// TLS, HTTP status, a stalled transfer) into `error` and returns -1. `*status` gets the HTTP status
/// (0 when no response came). A transfer that moves less than 1 byte/s for `stall_seconds` fails.
int ift_http_get(const char *url, long connect_timeout_seconds, long stall_seconds, ift_http_body_fn body,
                 ift_http_progress_fn progress, void *context, long *status, char *error, size_t error_length);

/// A request with a method ("GET" or "POST"), extra header lines ("Name: value"), an optional
/// body, and a limit on the whole transfer (`total_timeout_seconds`, 0 for none). Otherwise as
/// ift_http_get; HTTP statuses >= 400 are not errors here: the body and `*status` come back.
int ift_http_request(const char *url, const char *method, const char *const *headers, int header_count,
                     const void *request_body, size_t request_length, long connect_timeout_seconds,
                     long total_timeout_seconds, ift_http_body_fn body, void *context, long *status, char *error,
                     size_t error_length);

/// Receives each response header line as it arrives ("HTTP/1.1 200 OK", "ETag: ...", with its
/// CR LF), for every response of a redirect chain.
typedef void (*ift_http_header_fn)(void *context, const char *line, size_t length);

/// A streamed GET with extra header lines (e.g. "Range: bytes=N-", "Authorization: ..."), following
/// redirects (libcurl does not pass an Authorization header on to another host). Statuses >= 400
/// are not errors here: `header` sees each status line, so the receiver knows the final status
/// before the body comes. Returns -1 with `error` set on transport failures (connection, TLS, a
/// transfer cut or stalled for `stall_seconds`), or when `body` stops the transfer.
int ift_http_fetch(const char *url, const char *const *headers, int header_count, long connect_timeout_seconds,
                   long stall_seconds, ift_http_header_fn header, ift_http_body_fn body, ift_http_progress_fn progress,
                   void *context, long *status, char *error, size_t error_length);

#ifdef __cplusplus
}
#endif

#endif

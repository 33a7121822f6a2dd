#include "ift_http.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

// libcurl's entry points, resolved with dlsym (the headers give types and option numbers only).
static struct {
    CURLcode (*global_init)(long);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_perform)(CURL *);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    const char *(*easy_strerror)(CURLcode);
    void (*easy_cleanup)(CURL *);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
} api;
static char load_error[512];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void) {
    const char *names[] = {"libcurl.so.4", "libcurl.so", "libcurl.4.dylib", "libcurl.dylib"};
    void *h = NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !h; i++) h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(load_error, sizeof load_error,
                 "downloads need libcurl (Debian: apt-get install libcurl4): %s", dlerror());
        return;
    }
    *(void **)&api.global_init = dlsym(h, "curl_global_init");
    *(void **)&api.easy_init = dlsym(h, "curl_easy_init");
    *(void **)&api.easy_setopt = dlsym(h, "curl_easy_setopt");
    *(void **)&api.easy_perform = dlsym(h, "curl_easy_perform");
    *(void **)&api.easy_getinfo = dlsym(h, "curl_easy_getinfo");
    *(void **)&api.easy_strerror = dlsym(h, "curl_easy_strerror");
    *(void **)&api.easy_cleanup = dlsym(h, "curl_easy_cleanup");
    *(void **)&api.slist_append = dlsym(h, "curl_slist_append");
    *(void **)&api.slist_free_all = dlsym(h, "curl_slist_free_all");
    if (!api.global_init || !api.easy_init || !api.easy_setopt || !api.easy_perform || !api.easy_getinfo ||
        !api.easy_strerror || !api.easy_cleanup || !api.slist_append || !api.slist_free_all) {
        snprintf(load_error, sizeof load_error, "the libcurl that was found lacks the easy interface");
        api.easy_init = NULL;
        return;
    }
    api.global_init(CURL_GLOBAL_DEFAULT);
}

typedef struct {
    ift_http_body_fn body;
    ift_http_progress_fn progress;
    ift_http_header_fn header;
    void *context;
    int stopped;
} transfer;

static size_t on_header(char *data, size_t size, size_t count, void *user) {
    transfer *t = user;
    t->header(t->context, data, size * count);
    return size * count;
}

static size_t on_write(char *data, size_t size, size_t count, void *user) {
    transfer *t = user;
    if (t->body(t->context, data, size * count) != 0) {
        t->stopped = 1;
        return 0;  // libcurl stops with CURLE_WRITE_ERROR
    }
    return size * count;
}

static int on_progress(void *user, curl_off_t total, curl_off_t now, curl_off_t up_total, curl_off_t up_now) {
    (void)up_total;
    (void)up_now;
    transfer *t = user;
    if (t->progress) t->progress(t->context, (long long)total, (long long)now);
    return 0;
}

/// One transfer. `stall_seconds` > 0 fails a transfer under 1 byte/s for that long; `fail_on_http_error`
/// makes statuses >= 400 errors (downloads) instead of responses (API calls).
static int perform(const char *url, const char *method, const char *const *headers, int header_count,
                   const void *request_body, size_t request_length, long connect_timeout_seconds,
                   long total_timeout_seconds, long stall_seconds, int fail_on_http_error, transfer *t, long *status,
                   char *error, size_t error_length) {
    *status = 0;
    if (error_length) error[0] = 0;
    pthread_once(&once, load);
    if (!api.easy_init) {
        snprintf(error, error_length, "%s", load_error);
        return -1;
    }
    CURL *curl = api.easy_init();
    if (!curl) {
        snprintf(error, error_length, "curl_easy_init failed");
        return -1;
    }
    struct curl_slist *list = NULL;
    for (int i = 0; i < header_count; i++) list = api.slist_append(list, headers[i]);
    char curl_error[CURL_ERROR_SIZE] = {0};
    api.easy_setopt(curl, CURLOPT_URL, url);
    api.easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    api.easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
    api.easy_setopt(curl, CURLOPT_FAILONERROR, fail_on_http_error ? 1L : 0L);
    api.easy_setopt(curl, CURLOPT_USERAGENT, "ift-gpu");
    api.easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    api.easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, connect_timeout_seconds);
    if (total_timeout_seconds > 0) api.easy_setopt(curl, CURLOPT_TIMEOUT, total_timeout_seconds);
    if (stall_seconds > 0) {
        api.easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
        api.easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, stall_seconds);
    }
    api.easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_error);
    api.easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_write);
    api.easy_setopt(curl, CURLOPT_WRITEDATA, t);
    if (t->progress) {
        api.easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
        api.easy_setopt(curl, CURLOPT_XFERINFODATA, t);
        api.easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    }
    if (t->header) {
        api.easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
        api.easy_setopt(curl, CURLOPT_HEADERDATA, t);
    }
    if (list) api.easy_setopt(curl, CURLOPT_HTTPHEADER, list);
    if (strcmp(method, "POST") == 0) {
        api.easy_setopt(curl, CURLOPT_POST, 1L);
        api.easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)request_length);
        api.easy_setopt(curl, CURLOPT_POSTFIELDS, request_body ? request_body : "");
    } else if (strcmp(method, "GET") != 0) {
        api.easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    }
    CURLcode code = api.easy_perform(curl);
    api.easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
    api.easy_cleanup(curl);
    if (list) api.slist_free_all(list);
    if (code == CURLE_OK) return 0;
    if (t->stopped) {
        snprintf(error, error_length, "stopped by the receiver");
    } else {
        snprintf(error, error_length, "%s", curl_error[0] ? curl_error : api.easy_strerror(code));
    }
    return -1;
}

int ift_http_get(const char *url, long connect_timeout_seconds, long stall_seconds, ift_http_body_fn body,
                 ift_http_progress_fn progress, void *context, long *status, char *error, size_t error_length) {
    transfer t = {body, progress, NULL, context, 0};
    return perform(url, "GET", NULL, 0, NULL, 0, connect_timeout_seconds, 0, stall_seconds, 1, &t, status, error,
                   error_length);
}

int ift_http_request(const char *url, const char *method, const char *const *headers, int header_count,
                     const void *request_body, size_t request_length, long connect_timeout_seconds,
                     long total_timeout_seconds, ift_http_body_fn body, void *context, long *status, char *error,
                     size_t error_length) {
    transfer t = {body, NULL, NULL, context, 0};
    return perform(url, method, headers, header_count, request_body, request_length, connect_timeout_seconds,
                   total_timeout_seconds, 0, 0, &t, status, error, error_length);
}

int ift_http_fetch(const char *url, const char *const *headers, int header_count, long connect_timeout_seconds,
                   long stall_seconds, ift_http_header_fn header, ift_http_body_fn body, ift_http_progress_fn progress,
                   void *context, long *status, char *error, size_t error_length) {
    transfer t = {body, progress, header, context, 0};
    return perform(url, "GET", headers, header_count, NULL, 0, connect_timeout_seconds, 0, stall_seconds, 0, &t, status,
                   error, error_length);
}

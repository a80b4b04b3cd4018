/*
 * libfnunixsocket: the JNI half of fdk-java's unix-socket transport
 * (com.fnproject.fn.runtime.ntv.UnixSocketNative), written for the
 * conformance probe.
 *
 * Why it exists: fdk-java's runtime jar on Maven Central carries only the
 * Java half. The official images (fnproject/fn-java-fdk) ship the native
 * library in /function/runtime/lib, built from the C sources in fdk-java's
 * repository; neither the images nor those sources can be fetched here. This
 * file implements the same 15 native methods, one POSIX call each, with the
 * contract the Java half relies on:
 *
 *   - errors throw UnixSocketException(message, strerror(errno)); a bad
 *     argument throws IllegalArgumentException, a read or write timeout
 *     (EAGAIN) java.net.SocketTimeoutException;
 *   - accept(fd, timeoutMs) waits at most timeoutMs (0: forever) and returns
 *     0 when it timed out;
 *   - recv returns -1 at end of stream;
 *   - EINTR is retried.
 *
 * It adds no behaviour of its own: everything the harness judges (the socket
 * name, its mode, the symlink, HTTP, statuses, headers) is done by the
 * FDK's Java code.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jni.h>

#define NATIVE(name) JNICALL Java_com_fnproject_fn_runtime_ntv_UnixSocketNative_##name

static void throw_one(JNIEnv *env, const char *cls, const char *message) {
    jclass c = (*env)->FindClass(env, cls);
    if (c != NULL) {
        (*env)->ThrowNew(env, c, message);
    }
}

/* UnixSocketException(message, strerror(errno)). */
static void throw_errno(JNIEnv *env, const char *message) {
    int err = errno;
    jclass c = (*env)->FindClass(env, "com/fnproject/fn/runtime/ntv/UnixSocketException");
    if (c == NULL) {
        return;
    }
    jmethodID init = (*env)->GetMethodID(env, c, "<init>", "(Ljava/lang/String;Ljava/lang/String;)V");
    if (init == NULL) {
        return;
    }
    jstring m = (*env)->NewStringUTF(env, message);
    jstring d = (*env)->NewStringUTF(env, strerror(err));
    if (m == NULL || d == NULL) {
        return;
    }
    jobject e = (*env)->NewObject(env, c, init, m, d);
    if (e != NULL) {
        (*env)->Throw(env, (jthrowable) e);
    }
}

static void throw_arg(JNIEnv *env, const char *message) {
    throw_one(env, "java/lang/IllegalArgumentException", message);
}

/* For reads and writes: a timeout (SO_RCVTIMEO/SO_SNDTIMEO) is a
 * SocketTimeoutException, anything else a UnixSocketException. */
static void throw_io(JNIEnv *env, const char *message) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
        throw_one(env, "java/net/SocketTimeoutException", message);
    } else {
        throw_errno(env, message);
    }
}

/* Fills addr from a Java path; 0 on success, -1 with an exception thrown. */
static int unix_addr(JNIEnv *env, jstring path, struct sockaddr_un *addr) {
    if (path == NULL) {
        throw_one(env, "java/lang/NullPointerException", "path is null");
        return -1;
    }
    const char *p = (*env)->GetStringUTFChars(env, path, NULL);
    if (p == NULL) {
        return -1;
    }
    memset(addr, 0, sizeof(*addr));
    addr->sun_family = AF_UNIX;
    size_t len = strlen(p);
    if (len >= sizeof(addr->sun_path)) {
        (*env)->ReleaseStringUTFChars(env, path, p);
        throw_arg(env, "Path too long");
        return -1;
    }
    memcpy(addr->sun_path, p, len + 1);
    (*env)->ReleaseStringUTFChars(env, path, p);
    return 0;
}

JNIEXPORT jint NATIVE(socket)(JNIEnv *env, jclass cls) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        throw_errno(env, "Could not create socket");
    }
    return fd;
}

JNIEXPORT void NATIVE(bind)(JNIEnv *env, jclass cls, jint fd, jstring path) {
    struct sockaddr_un addr;
    if (unix_addr(env, path, &addr) != 0) {
        return;
    }
    if (bind(fd, (struct sockaddr *) &addr, sizeof(addr)) < 0) {
        throw_errno(env, "Error in bind");
    }
}

JNIEXPORT void NATIVE(connect)(JNIEnv *env, jclass cls, jint fd, jstring path) {
    struct sockaddr_un addr;
    if (unix_addr(env, path, &addr) != 0) {
        return;
    }
    int rv;
    do {
        rv = connect(fd, (struct sockaddr *) &addr, sizeof(addr));
    } while (rv < 0 && errno == EINTR);
    if (rv < 0) {
        if (errno == ETIMEDOUT) {
            throw_one(env, "java/net/SocketTimeoutException", "Socket connect timed out");
        } else {
            throw_errno(env, "Error in connect");
        }
    }
}

JNIEXPORT void NATIVE(listen)(JNIEnv *env, jclass cls, jint fd, jint backlog) {
    if (listen(fd, backlog) < 0) {
        throw_errno(env, "Error in listen");
    }
}

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The accepted descriptor, or 0 if nothing came within timeoutMs. */
JNIEXPORT jint NATIVE(accept)(JNIEnv *env, jclass cls, jint fd, jlong timeoutMs) {
    if (timeoutMs < 0) {
        throw_arg(env, "Invalid timeout");
        return -1;
    }
    long long until = now_ms() + timeoutMs;
    for (;;) {
        int wait = -1;
        if (timeoutMs > 0) {
            long long left = until - now_ms();
            if (left <= 0) {
                return 0;
            }
            wait = left > INT_MAX ? INT_MAX : (int) left;
        }
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int rv = poll(&pfd, 1, wait);
        if (rv < 0 && errno == EINTR) {
            continue;
        }
        if (rv < 0) {
            throw_errno(env, "Error in poll");
            return -1;
        }
        if (rv == 0) {
            return 0;
        }
        break;
    }
    int conn;
    do {
        conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
    } while (conn < 0 && errno == EINTR);
    if (conn < 0) {
        throw_errno(env, "Error in accept");
        return -1;
    }
    return conn;
}

/* Checks offset/length against the array; 0 if they are usable. */
static int check_range(JNIEnv *env, jbyteArray buf, jint offset, jint *length, int clamp) {
    if (buf == NULL) {
        throw_one(env, "java/lang/NullPointerException", "buffer is null");
        return -1;
    }
    if (offset < 0 || *length <= 0) {
        throw_arg(env, "Invalid offset, length");
        return -1;
    }
    jint size = (*env)->GetArrayLength(env, buf);
    if (offset >= size) {
        throw_arg(env, "Invalid offset, beyond end of buffer");
        return -1;
    }
    if (*length > size - offset) {
        if (!clamp) {
            throw_arg(env, "Invalid length, beyond end of buffer");
            return -1;
        }
        *length = size - offset;
    }
    return 0;
}

/* Bytes read, or -1 at end of stream. */
JNIEXPORT jint NATIVE(recv)(JNIEnv *env, jclass cls, jint fd, jbyteArray buf, jint offset, jint length) {
    if (check_range(env, buf, offset, &length, 1) != 0) {
        return -1;
    }
    jbyte *bytes = (*env)->GetByteArrayElements(env, buf, NULL);
    if (bytes == NULL) {
        return -1;
    }
    ssize_t n;
    do {
        n = read(fd, bytes + offset, (size_t) length);
    } while (n < 0 && errno == EINTR);
    int err = errno;
    (*env)->ReleaseByteArrayElements(env, buf, bytes, n > 0 ? 0 : JNI_ABORT);
    if (n == 0) {
        return -1;
    }
    if (n < 0) {
        errno = err;
        throw_io(env, "Timeout or error reading from socket");
        return -1;
    }
    return (jint) n;
}

JNIEXPORT jint NATIVE(send)(JNIEnv *env, jclass cls, jint fd, jbyteArray buf, jint offset, jint length) {
    if (check_range(env, buf, offset, &length, 0) != 0) {
        return -1;
    }
    jbyte *bytes = (*env)->GetByteArrayElements(env, buf, NULL);
    if (bytes == NULL) {
        return -1;
    }
    ssize_t n;
    do {
        /* The JVM ignores SIGPIPE: a peer that hung up is EPIPE. */
        n = write(fd, bytes + offset, (size_t) length);
    } while (n < 0 && errno == EINTR);
    int err = errno;
    (*env)->ReleaseByteArrayElements(env, buf, bytes, JNI_ABORT);
    if (n < 0) {
        errno = err;
        throw_io(env, "Timeout or error writing to socket");
        return -1;
    }
    return (jint) n;
}

JNIEXPORT void NATIVE(close)(JNIEnv *env, jclass cls, jint fd) {
    if (close(fd) < 0 && errno != EINTR) {
        throw_errno(env, "Error in closing socket");
    }
}

static void set_int_opt(JNIEnv *env, jint fd, int opt, jint value) {
    if (value <= 0) {
        throw_arg(env, "Invalid buffer size");
        return;
    }
    int v = value;
    if (setsockopt(fd, SOL_SOCKET, opt, &v, sizeof(v)) < 0) {
        throw_errno(env, "Error setting socket options");
    }
}

JNIEXPORT void NATIVE(setSendBufSize)(JNIEnv *env, jclass cls, jint fd, jint size) {
    set_int_opt(env, fd, SO_SNDBUF, size);
}

JNIEXPORT void NATIVE(setRecvBufSize)(JNIEnv *env, jclass cls, jint fd, jint size) {
    set_int_opt(env, fd, SO_RCVBUF, size);
}

static void set_timeout(JNIEnv *env, jint fd, int opt, jint ms) {
    if (ms < 0) {
        throw_arg(env, "Invalid timeout");
        return;
    }
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    if (setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv)) < 0) {
        throw_errno(env, "Error setting socket options");
    }
}

static jint get_timeout(JNIEnv *env, jint fd, int opt) {
    struct timeval tv;
    socklen_t len = sizeof(tv);
    memset(&tv, 0, sizeof(tv));
    if (getsockopt(fd, SOL_SOCKET, opt, &tv, &len) < 0) {
        throw_errno(env, "Error getting socket options");
        return -1;
    }
    long long ms = (long long) tv.tv_sec * 1000 + tv.tv_usec / 1000;
    return ms > INT_MAX ? INT_MAX : (jint) ms;
}

JNIEXPORT void NATIVE(setSendTimeout)(JNIEnv *env, jclass cls, jint fd, jint ms) {
    set_timeout(env, fd, SO_SNDTIMEO, ms);
}

JNIEXPORT jint NATIVE(getSendTimeout)(JNIEnv *env, jclass cls, jint fd) {
    return get_timeout(env, fd, SO_SNDTIMEO);
}

JNIEXPORT void NATIVE(setRecvTimeout)(JNIEnv *env, jclass cls, jint fd, jint ms) {
    set_timeout(env, fd, SO_RCVTIMEO, ms);
}

JNIEXPORT jint NATIVE(getRecvTimeout)(JNIEnv *env, jclass cls, jint fd) {
    return get_timeout(env, fd, SO_RCVTIMEO);
}

JNIEXPORT void NATIVE(shutdown)(JNIEnv *env, jclass cls, jint fd, jboolean input, jboolean output) {
    int how;
    if (input && output) {
        how = SHUT_RDWR;
    } else if (input) {
        how = SHUT_RD;
    } else if (output) {
        how = SHUT_WR;
    } else {
        return;
    }
    if (shutdown(fd, how) < 0) {
        throw_errno(env, "Error in shutdown");
    }
}

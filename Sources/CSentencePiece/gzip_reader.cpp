// hat_read_maybe_gzip: whole-file reads through zlib (Foundation has no gzip on Linux).
#include "sentencepiece_shim.h"

#include <zlib.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {
void set_error(char **error, const std::string &message) {
    if (error == nullptr) return;
    char *out = static_cast<char *>(std::malloc(message.size() + 1));
    if (out == nullptr) return;
    std::memcpy(out, message.c_str(), message.size() + 1);
    *error = out;
}
}  // namespace

extern "C" uint8_t *hat_read_maybe_gzip(const char *path, size_t *length, char **error) {
    if (error != nullptr) *error = nullptr;
    *length = 0;
    errno = 0;
    // gzopen reads non-gzip files transparently and decodes concatenated gzip members.
    gzFile file = gzopen(path, "rb");
    if (file == nullptr) {
        set_error(error, std::string("cannot open ") + path + ": " +
                             (errno != 0 ? std::strerror(errno) : "out of memory"));
        return nullptr;
    }
    gzbuffer(file, 1 << 17);
    size_t capacity = 1 << 20, size = 0;
    auto *buffer = static_cast<uint8_t *>(std::malloc(capacity));
    if (buffer == nullptr) {
        gzclose(file);
        set_error(error, "out of memory");
        return nullptr;
    }
    for (;;) {
        if (capacity - size < (1 << 16)) {
            capacity *= 2;
            auto *grown = static_cast<uint8_t *>(std::realloc(buffer, capacity));
            if (grown == nullptr) {
                std::free(buffer);
                gzclose(file);
                set_error(error, "out of memory");
                return nullptr;
            }
            buffer = grown;
        }
        const unsigned want = static_cast<unsigned>(capacity - size > (1u << 30) ? (1u << 30) : capacity - size);
        const int got = gzread(file, buffer + size, want);
        if (got < 0) {
            int code = 0;
            const char *message = gzerror(file, &code);
            std::string text = std::string("cannot read ") + path + ": " +
                               (code == Z_ERRNO ? std::strerror(errno) : (message ? message : "read error")) +
                               " (corrupt or truncated gzip?)";
            std::free(buffer);
            gzclose(file);
            set_error(error, text);
            return nullptr;
        }
        if (got == 0) break;
        size += static_cast<size_t>(got);
    }
    // A truncated gzip stream reads as EOF with Z_BUF_ERROR pending.
    int code = 0;
    const char *message = gzerror(file, &code);
    if (code != Z_OK && code != Z_STREAM_END) {
        std::string text = std::string("cannot read ") + path + ": " + (message ? message : "gzip error") +
                           " (corrupt or truncated gzip?)";
        std::free(buffer);
        gzclose(file);
        set_error(error, text);
        return nullptr;
    }
    gzclose(file);
    *length = size;
    return buffer;
}

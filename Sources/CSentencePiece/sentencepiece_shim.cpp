// The C API of sentencepiece_shim.h over SentencePiece's C++ classes. See the header for the rules.
#include "sentencepiece_shim.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

// Exported by libsentencepiece but not declared in Debian's public headers.
namespace sentencepiece {
namespace logging {
int GetMinLogLevel();
void SetMinLogLevel(int v);
}  // namespace logging
}  // namespace sentencepiece

struct hat_spm_processor {
    sentencepiece::SentencePieceProcessor spm;
};

namespace {

char *copy_string(const std::string &s) {
    char *out = static_cast<char *>(std::malloc(s.size() + 1));
    if (out == nullptr) return nullptr;
    std::memcpy(out, s.data(), s.size());
    out[s.size()] = '\0';
    return out;
}

void set_error(char **error, const std::string &message) {
    if (error != nullptr) *error = copy_string(message);
}

std::mutex &training_mutex() {
    static std::mutex m;
    return m;
}

}  // namespace

extern "C" void hat_spm_free(void *pointer) { std::free(pointer); }

extern "C" char *hat_spm_train(const char *const *keys, const char *const *values, int32_t count,
                               uint32_t seed, int32_t quiet) {
    try {
        std::unordered_map<std::string, std::string> kwargs;
        for (int32_t i = 0; i < count; ++i) kwargs[keys[i]] = values[i];
        std::lock_guard<std::mutex> lock(training_mutex());
        sentencepiece::SetRandomGeneratorSeed(seed);
        struct LogLevelGuard {
            int previous = sentencepiece::logging::GetMinLogLevel();
            ~LogLevelGuard() { sentencepiece::logging::SetMinLogLevel(previous); }
        } guard;
        // 0 = INFO, 1 = WARNING, 2 = ERROR: errors come back in the status anyway.
        if (quiet) sentencepiece::logging::SetMinLogLevel(2);
        const auto status = sentencepiece::SentencePieceTrainer::Train(kwargs);
        if (!status.ok()) return copy_string(status.ToString());
        return nullptr;
    } catch (const std::exception &e) {
        return copy_string(std::string("SentencePiece training failed: ") + e.what());
    } catch (...) {
        return copy_string("SentencePiece training failed with an unknown C++ exception");
    }
}

extern "C" hat_spm_processor *hat_spm_load(const char *model_path, char **error) {
    if (error != nullptr) *error = nullptr;
    try {
        auto *p = new hat_spm_processor();
        const auto status = p->spm.Load(model_path);
        if (!status.ok()) {
            set_error(error, status.ToString());
            delete p;
            return nullptr;
        }
        return p;
    } catch (const std::exception &e) {
        set_error(error, std::string("loading the SentencePiece model failed: ") + e.what());
    } catch (...) {
        set_error(error, "loading the SentencePiece model failed with an unknown C++ exception");
    }
    return nullptr;
}

extern "C" void hat_spm_processor_free(hat_spm_processor *processor) { delete processor; }

extern "C" int32_t hat_spm_vocab_size(const hat_spm_processor *processor) {
    return processor->spm.GetPieceSize();
}

extern "C" int32_t *hat_spm_encode(const hat_spm_processor *processor, const char *text,
                                   size_t length, int32_t *count, char **error) {
    if (error != nullptr) *error = nullptr;
    *count = 0;
    try {
        std::vector<int> ids;
        const auto status = processor->spm.Encode(std::string(text, length), &ids);
        if (!status.ok()) {
            set_error(error, status.ToString());
            return nullptr;
        }
        if (ids.empty()) return nullptr;
        auto *out = static_cast<int32_t *>(std::malloc(ids.size() * sizeof(int32_t)));
        if (out == nullptr) {
            set_error(error, "out of memory");
            return nullptr;
        }
        for (size_t i = 0; i < ids.size(); ++i) out[i] = static_cast<int32_t>(ids[i]);
        *count = static_cast<int32_t>(ids.size());
        return out;
    } catch (const std::exception &e) {
        set_error(error, std::string("SentencePiece encode failed: ") + e.what());
    } catch (...) {
        set_error(error, "SentencePiece encode failed with an unknown C++ exception");
    }
    return nullptr;
}

extern "C" char *hat_spm_decode(const hat_spm_processor *processor, const int32_t *ids,
                                int32_t count, char **error) {
    if (error != nullptr) *error = nullptr;
    try {
        const int size = processor->spm.GetPieceSize();
        std::vector<int> v;
        v.reserve(count > 0 ? count : 0);
        for (int32_t i = 0; i < count; ++i) {
            if (ids[i] < 0 || ids[i] >= size) {
                set_error(error, "id " + std::to_string(ids[i]) + " is outside the vocabulary (size " +
                                     std::to_string(size) + ")");
                return nullptr;
            }
            v.push_back(ids[i]);
        }
        std::string text;
        const auto status = processor->spm.Decode(v, &text);
        if (!status.ok()) {
            set_error(error, status.ToString());
            return nullptr;
        }
        return copy_string(text);
    } catch (const std::exception &e) {
        set_error(error, std::string("SentencePiece decode failed: ") + e.what());
    } catch (...) {
        set_error(error, "SentencePiece decode failed with an unknown C++ exception");
    }
    return nullptr;
}

extern "C" int32_t hat_spm_piece_to_id(const hat_spm_processor *processor, const char *piece) {
    try {
        return processor->spm.PieceToId(piece);
    } catch (...) {
        return processor->spm.unk_id();
    }
}

extern "C" char *hat_spm_id_to_piece(const hat_spm_processor *processor, int32_t id) {
    if (id < 0 || id >= processor->spm.GetPieceSize()) return nullptr;
    try {
        return copy_string(processor->spm.IdToPiece(id));
    } catch (...) {
        return nullptr;
    }
}

extern "C" int32_t hat_spm_is_control(const hat_spm_processor *processor, int32_t id) {
    if (id < 0 || id >= processor->spm.GetPieceSize()) return 0;
    return processor->spm.IsControl(id) ? 1 : 0;
}

extern "C" float hat_spm_score(const hat_spm_processor *processor, int32_t id) {
    if (id < 0 || id >= processor->spm.GetPieceSize()) return 0;
    return processor->spm.GetScore(id);
}

extern "C" int32_t hat_spm_is_mergeable(const hat_spm_processor *processor, int32_t id) {
    if (id < 0 || id >= processor->spm.GetPieceSize()) return 0;
    const auto &spm = processor->spm;
    return spm.IsControl(id) || spm.IsUnknown(id) || spm.IsUnused(id) || spm.IsByte(id) ? 0 : 1;
}

extern "C" int32_t hat_spm_is_unknown(const hat_spm_processor *processor, int32_t id) {
    if (id < 0 || id >= processor->spm.GetPieceSize()) return 0;
    return processor->spm.IsUnknown(id) ? 1 : 0;
}

extern "C" int32_t hat_spm_pad_id(const hat_spm_processor *processor) { return processor->spm.pad_id(); }
extern "C" int32_t hat_spm_bos_id(const hat_spm_processor *processor) { return processor->spm.bos_id(); }
extern "C" int32_t hat_spm_eos_id(const hat_spm_processor *processor) { return processor->spm.eos_id(); }
extern "C" int32_t hat_spm_unk_id(const hat_spm_processor *processor) { return processor->spm.unk_id(); }

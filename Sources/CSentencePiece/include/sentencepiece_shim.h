// A C API over SentencePiece (libsentencepiece, libsentencepiece_train) and zlib, for Swift.
//
// SentencePiece's C++ classes do not import into Swift (build-notes.md), so this shim owns them
// behind an opaque handle. Rules of the boundary:
//   - no C++ exception ever crosses it: every entry point catches and reports;
//   - errors come back as a malloc'd, NUL-terminated message in `*error` (NULL on success);
//     free it, and every other returned string or array, with `hat_spm_free`.
#pragma once
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// An opaque, loaded SentencePiece model. Encode/decode are const and safe to call from
/// several threads at once.
typedef struct hat_spm_processor hat_spm_processor;

/// Frees anything this API returned (error messages, strings, id arrays). NULL is allowed.
void hat_spm_free(void *pointer);

/// Trains a model from `count` option pairs named as spm_train's flags, e.g.
/// {"input", "a.txt"}, {"model_prefix", "out/spm"}, {"vocab_size", "8000"}, {"model_type", "bpe"}
/// (pairs, not one command line, so paths may contain spaces). `seed` seeds SentencePiece's
/// random generator (used when it samples sentences). `quiet` != 0 suppresses the trainer's
/// log (progress and warnings; errors come back as the result). Trainings are serialized (log level and seed are process-global).
/// Returns NULL on success, else the error message.
char *hat_spm_train(const char *const *keys, const char *const *values, int32_t count, uint32_t seed,
                    int32_t quiet);

/// Loads a model file. Returns NULL and sets `*error` on failure.
hat_spm_processor *hat_spm_load(const char *model_path, char **error);

/// Releases a loaded model. NULL is allowed.
void hat_spm_processor_free(hat_spm_processor *processor);

/// Number of pieces (ids are 0 ..< size).
int32_t hat_spm_vocab_size(const hat_spm_processor *processor);

/// Encodes UTF-8 text (not NUL-terminated; `length` bytes) into piece ids, no bos/eos.
/// Returns a malloc'd array of `*count` ids (may be NULL when count is 0), or NULL with `*error`.
int32_t *hat_spm_encode(const hat_spm_processor *processor, const char *text, size_t length,
                        int32_t *count, char **error);

/// Decodes ids into text (control ids such as bos/eos/pad decode to nothing).
/// Returns a malloc'd NUL-terminated UTF-8 string, or NULL with `*error`.
char *hat_spm_decode(const hat_spm_processor *processor, const int32_t *ids, int32_t count,
                     char **error);

/// The id of a piece, or the unknown id when the piece is not in the vocabulary.
int32_t hat_spm_piece_to_id(const hat_spm_processor *processor, const char *piece);

/// The piece for an id as a malloc'd string, or NULL when the id is out of range.
char *hat_spm_id_to_piece(const hat_spm_processor *processor, int32_t id);

/// 1 when `id` is a control symbol (bos, eos, pad), else 0.
int32_t hat_spm_is_control(const hat_spm_processor *processor, int32_t id);

/// The piece's score (for a BPE model: minus its merge rank, so a higher score merges first);
/// 0 when `id` is out of range.
float hat_spm_score(const hat_spm_processor *processor, int32_t id);

/// 1 when `id` is a piece the BPE merge loop builds from characters (not control, unknown,
/// unused or a byte-fallback piece such as <0xE2>), else 0.
int32_t hat_spm_is_mergeable(const hat_spm_processor *processor, int32_t id);

/// 1 when `id` is the unknown symbol, else 0.
int32_t hat_spm_is_unknown(const hat_spm_processor *processor, int32_t id);

/// The special ids the model was trained with (-1 when disabled).
int32_t hat_spm_pad_id(const hat_spm_processor *processor);
int32_t hat_spm_bos_id(const hat_spm_processor *processor);
int32_t hat_spm_eos_id(const hat_spm_processor *processor);
int32_t hat_spm_unk_id(const hat_spm_processor *processor);

/// Reads a whole file through zlib: gzip files (also multi-member) are decompressed, other
/// files are returned as they are. Returns a malloc'd buffer of `*length` bytes, or NULL with
/// `*error` (the message names the path).
uint8_t *hat_read_maybe_gzip(const char *path, size_t *length, char **error);

#ifdef __cplusplus
}
#endif

// Placeholder until the data stage lands: the C API over SentencePiece.
#pragma once
#ifdef __cplusplus
extern "C" {
#endif
int hat_spm_version(void);
#ifdef __cplusplus
}
#endif

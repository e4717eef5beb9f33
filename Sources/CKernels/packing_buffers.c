#include "packing_buffers.h"

#include <pthread.h>
#include <stdlib.h>

typedef struct {
    void *pointer[HAT_PACK_SLOTS];
    size_t capacity[HAT_PACK_SLOTS];
} buffers;

static pthread_key_t key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void release(void *p) {
    buffers *b = p;
    for (int i = 0; i < HAT_PACK_SLOTS; i++) free(b->pointer[i]);
    free(b);
}

static void make_key(void) { pthread_key_create(&key, release); }

void *hat_packing_buffer(int slot, size_t bytes) {
    pthread_once(&key_once, make_key);
    buffers *b = pthread_getspecific(key);
    if (!b) {
        b = calloc(1, sizeof *b);
        if (!b || pthread_setspecific(key, b) != 0) { free(b); return NULL; }
    }
    if (b->capacity[slot] < bytes) {
        free(b->pointer[slot]);
        const size_t rounded = (bytes + 63) / 64 * 64;
        b->pointer[slot] = aligned_alloc(64, rounded);
        b->capacity[slot] = b->pointer[slot] ? rounded : 0;
    }
    return b->pointer[slot];
}

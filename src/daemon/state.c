/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "state.h"

void state_writer_done(StateWriter *w) {
        assert(w);
        w->data = mfree(w->data);
        w->size = w->allocated = 0;
}

static uint8_t *reserve(StateWriter *w, size_t n) {
        uint8_t *p;

        if (w->error < 0)
                return NULL;
        if (n > SIZE_MAX / 2 - w->size) {
                w->error = -ENOMEM;
                return NULL;
        }
        if (w->size + n > w->allocated) {
                size_t allocated = MAX(w->allocated * 2, MAX(w->size + n, (size_t) 4096));

                p = realloc(w->data, allocated);
                if (!p) {
                        w->error = -ENOMEM;
                        return NULL;
                }
                w->data = p;
                w->allocated = allocated;
        }
        p = w->data + w->size;
        w->size += n;
        return p;
}

static void put(StateWriter *w, const void *v, size_t n) {
        uint8_t *p = reserve(w, n);

        if (p && n > 0)
                memcpy(p, v, n);
}

void state_put_u8(StateWriter *w, uint8_t v) {
        put(w, &v, sizeof(v));
}

void state_put_u32(StateWriter *w, uint32_t v) {
        put(w, &v, sizeof(v));
}

void state_put_u64(StateWriter *w, uint64_t v) {
        put(w, &v, sizeof(v));
}

void state_put_bytes(StateWriter *w, const void *p, size_t n) {
        assert(p || n == 0);

        if (n > UINT32_MAX) {
                w->error = w->error ?: -EMSGSIZE;
                return;
        }
        state_put_u32(w, (uint32_t) n);
        put(w, p, n);
}

void state_put_string(StateWriter *w, const char *s) {
        assert(s);
        state_put_bytes(w, s, strlen(s));
}

size_t state_begin_record(StateWriter *w, uint16_t type) {
        size_t record;

        assert(w);

        put(w, &type, sizeof(type));
        record = w->size;
        state_put_u32(w, 0);
        return record;
}

void state_end_record(StateWriter *w, size_t record) {
        size_t n;
        uint32_t length;

        assert(w);
        if (w->error < 0)
                return;
        assert(record + sizeof(uint32_t) <= w->size);
        n = w->size - record - sizeof(uint32_t);
        if (n > UINT32_MAX) {
                w->error = -EMSGSIZE;
                return;
        }
        length = (uint32_t) n;
        memcpy(w->data + record, &length, sizeof(length));
}

int state_writer_to_memfd(StateWriter *w, const char *name, int *ret_fd) {
        _cleanup_close_ int fd = -EBADF;
        size_t done = 0;

        assert(w);
        assert(name);
        assert(ret_fd);

        if (w->error < 0)
                return w->error;
        fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0)
                return -errno;
        while (done < w->size) {
                ssize_t k = write(fd, w->data + done, w->size - done);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                done += (size_t) k;
        }
        /* Sealed, so that the next server reads what we wrote, and nothing else can change it; read from
         * the start (the file offset is the fd's, and goes with it). */
        if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
                return -errno;
        if (lseek(fd, 0, SEEK_SET) < 0)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static const uint8_t *get(StateReader *r, size_t n) {
        const uint8_t *p;

        if (r->error < 0)
                return NULL;
        if (n > r->size - r->at) {
                r->error = -EBADMSG;
                r->at = r->size;
                return NULL;
        }
        p = r->data + r->at;
        r->at += n;
        return p;
}

uint8_t state_get_u8(StateReader *r) {
        const uint8_t *p = get(r, sizeof(uint8_t));

        return p ? *p : 0;
}

uint32_t state_get_u32(StateReader *r) {
        const uint8_t *p = get(r, sizeof(uint32_t));
        uint32_t v = 0;

        if (p)
                memcpy(&v, p, sizeof(v));
        return v;
}

uint64_t state_get_u64(StateReader *r) {
        const uint8_t *p = get(r, sizeof(uint64_t));
        uint64_t v = 0;

        if (p)
                memcpy(&v, p, sizeof(v));
        return v;
}

const void *state_get_bytes(StateReader *r, size_t max, size_t *ret_n) {
        uint32_t n = state_get_u32(r);
        const uint8_t *p;

        assert(ret_n);

        *ret_n = 0;
        if (n > max) {
                state_reader_fail(r, -EBADMSG);
                return NULL;
        }
        p = get(r, n);
        if (p)
                *ret_n = n;
        return p;
}

void state_get_name(StateReader *r, char *buf, size_t max) {
        const char *p;
        size_t n;

        assert(buf);

        buf[0] = '\0';
        p = state_get_bytes(r, max, &n);
        if (!p)
                return;
        if (n == 0 || memchr(p, '\0', n)) {
                state_reader_fail(r, -EBADMSG);
                return;
        }
        memcpy(buf, p, n);
        buf[n] = '\0';
}

bool state_get_bool(StateReader *r) {
        uint8_t v = state_get_u8(r);

        if (v > 1)
                state_reader_fail(r, -EBADMSG);
        return v == 1;
}

bool state_next_record(StateReader *r, uint16_t *ret_type, StateReader *ret_payload) {
        const uint8_t *p;
        uint16_t type = 0;
        size_t n;

        assert(r);
        assert(ret_type);
        assert(ret_payload);

        if (r->error < 0 || r->at == r->size)
                return false;
        p = get(r, sizeof(type));
        if (p)
                memcpy(&type, p, sizeof(type));
        p = state_get_bytes(r, SIZE_MAX, &n);
        if (!p)
                return false;
        *ret_type = type;
        *ret_payload = (StateReader) { .data = p, .size = n, .version = r->version };
        return true;
}

/* SPDX-License-Identifier: MIT */
#pragma once

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _printf_(a, b) __attribute__((format(printf, a, b)))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#define IN_SET(x, first, ...)                                           \
        ({                                                              \
                const int _set_[] = { first, __VA_ARGS__ };             \
                bool _found_ = false;                                   \
                for (size_t _i_ = 0; _i_ < ELEMENTSOF(_set_); _i_++)    \
                        if (_set_[_i_] == (x)) {                        \
                                _found_ = true;                         \
                                break;                                  \
                        }                                               \
                _found_;                                                \
        })

/* The struct that member is embedded in, as the Linux kernel's and systemd's container_of(). */
#define container_of(ptr, type, member) ((type *) ((char *) (ptr) - offsetof(type, member)))

/* Exchanges two pointers of one type. */
#define SWAP_PTR(a, b)                                  \
        do {                                            \
                __typeof__(a) _swap = (a);              \
                (a) = (b);                              \
                (b) = _swap;                            \
        } while (false)

/* Hand ownership of a pointer or fd out of a _cleanup_ variable. */
#define TAKE_PTR(p)                                     \
        ({                                              \
                __typeof__(p) _taken_ = (p);            \
                (p) = NULL;                             \
                _taken_;                                \
        })
#define TAKE_FD(fd)                                     \
        ({                                              \
                int _taken_fd_ = (fd);                  \
                (fd) = -EBADF;                          \
                _taken_fd_;                             \
        })

/* A cleanup helper for a type whose destructor returns NULL. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)         \
        static inline void func##p(type *p) {           \
                if (*p)                                 \
                        func(*p);                       \
        }

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline const char *strempty(const char *s) {
        return s ?: "";
}

static inline bool startswith(const char *s, const char *prefix) {
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

static inline void *mfree(void *p) {
        free(p);
        return NULL;
}

static inline int safe_close(int fd) {
        if (fd >= 0) {
                int saved = errno;
                (void) close(fd);
                errno = saved;
        }
        return -EBADF;
}

static inline void closep(int *fd) {
        safe_close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

/* An intrusive doubly linked list, as in systemd's list.h. */
#define LIST_FIELDS(t, name) t *name##_next, *name##_prev

#define LIST_PREPEND(name, head, item)                                  \
        do {                                                            \
                __typeof__(*(head)) **_head = &(head), *_item = (item); \
                if ((_item->name##_next = *_head))                      \
                        _item->name##_next->name##_prev = _item;        \
                _item->name##_prev = NULL;                              \
                *_head = _item;                                         \
        } while (0)

#define LIST_REMOVE(name, head, item)                                   \
        do {                                                            \
                __typeof__(*(head)) **_head = &(head), *_item = (item); \
                if (_item->name##_next)                                 \
                        _item->name##_next->name##_prev = _item->name##_prev; \
                if (_item->name##_prev)                                 \
                        _item->name##_prev->name##_next = _item->name##_next; \
                else                                                    \
                        *_head = _item->name##_next;                    \
                _item->name##_next = _item->name##_prev = NULL;         \
        } while (0)

#define LIST_FOREACH_SAFE(name, i, n, head) \
        for ((i) = (head); (i) && (((n) = (i)->name##_next), 1); (i) = (n))

/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/* The files of the page at / (src/daemon/page), built into the program: no file to install or to lose,
 * and the page always matches the API of the server that serves it. */
typedef struct PageAsset {
        const char *path;       /* "/", "/thermo.js"... */
        const char *type;       /* its Content-Type */
        const unsigned char *data;
        size_t size;
        const char *etag;       /* quoted, as the header has it: a hash of the bytes */
} PageAsset;

extern const PageAsset page_assets[];
extern const size_t page_n_assets;

/* The file at path, or NULL. */
const PageAsset *page_find(const char *path);

/* What every file of the page is sent with: nothing but the server itself is reached, and only the
 * page's own scripts and styles run. */
#define PAGE_CONTENT_SECURITY_POLICY                                                                        \
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " \
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "page.h"

const PageAsset *page_find(const char *path) {
        if (!path)
                return NULL;
        for (size_t i = 0; i < page_n_assets; i++)
                if (strcmp(page_assets[i].path, path) == 0)
                        return &page_assets[i];
        return NULL;
}

/* SPDX-License-Identifier: MIT */
/* Run at build time: writes the page's files (index.html, *.css, *.js) as a C source of PageAsset
 * (page.h), each with its path, type and ETag, a hash of its bytes. Usage: embed-assets OUTPUT FILE... */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *type_of(const char *name) {
        const char *dot = strrchr(name, '.');

        if (dot && strcmp(dot, ".html") == 0)
                return "text/html; charset=utf-8";
        if (dot && strcmp(dot, ".css") == 0)
                return "text/css; charset=utf-8";
        if (dot && strcmp(dot, ".js") == 0)
                return "text/javascript; charset=utf-8";
        return NULL;
}

/* FNV-1a, 64 bits: an ETag changes with any byte. */
static uint64_t hash(const unsigned char *p, size_t n) {
        uint64_t h = UINT64_C(0xcbf29ce484222325);

        for (size_t i = 0; i < n; i++)
                h = (h ^ p[i]) * UINT64_C(0x100000001b3);
        return h;
}

static int embed(FILE *out, const char *path, size_t index) {
        const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path, *type = type_of(name);
        unsigned char *data = NULL;
        size_t size = 0, room = 0;
        FILE *f;
        int c;

        if (!type) {
                fprintf(stderr, "embed-assets: %s: not .html, .css or .js\n", path);
                return -EINVAL;
        }
        f = fopen(path, "rbe");
        if (!f) {
                fprintf(stderr, "embed-assets: %s: %s\n", path, strerror(errno));
                return -errno;
        }
        while ((c = getc(f)) != EOF) {
                if (size == room) {
                        unsigned char *p = realloc(data, room = room * 2 + 4096);

                        if (!p) {
                                free(data);
                                fclose(f);
                                return -ENOMEM;
                        }
                        data = p;
                }
                data[size++] = (unsigned char) c;
        }
        fclose(f);
        fprintf(out, "static const unsigned char asset_%zu[] = {", index);
        for (size_t i = 0; i < size; i++)
                fprintf(out, "%s0x%02x,", i % 16 == 0 ? "\n        " : " ", data[i]);
        fprintf(out, "\n};\n\n");
        /* index.html is the page at /, the others at their names. */
        fprintf(out, "#define ASSET_%zu { \"/%s\", \"%s\", asset_%zu, %zu, \"\\\"%016" PRIx64 "\\\"\" }\n\n", index,
                        strcmp(name, "index.html") == 0 ? "" : name, type, index, size, hash(data, size));
        free(data);
        return 0;
}

int main(int argc, char *argv[]) {
        FILE *out;

        if (argc < 3) {
                fprintf(stderr, "Usage: embed-assets OUTPUT FILE...\n");
                return 2;
        }
        out = fopen(argv[1], "we");
        if (!out) {
                fprintf(stderr, "embed-assets: %s: %s\n", argv[1], strerror(errno));
                return 1;
        }
        fprintf(out, "/* Made by embed-assets from the files of src/daemon/page: do not edit. */\n"
                     "#include \"page.h\"\n\n");
        for (int i = 2; i < argc; i++)
                if (embed(out, argv[i], (size_t) i - 2) < 0) {
                        fclose(out);
                        remove(argv[1]);
                        return 1;
                }
        fprintf(out, "const PageAsset page_assets[] = {");
        for (int i = 2; i < argc; i++)
                fprintf(out, " ASSET_%d,", i - 2);
        fprintf(out, " };\nconst size_t page_n_assets = %d;\n", argc - 2);
        if (fclose(out) != 0) {
                remove(argv[1]);
                return 1;
        }
        return 0;
}

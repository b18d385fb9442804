/* SPDX-License-Identifier: MIT */
/* thermo-client's whole path for a line from a server: the text check, the parse, and for a reading its
 * conversion into every unit and its line in every format. No input may crash, overflow or print a control
 * character. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "output.h"
#include "protocol.h"
#include "text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char line[1024], escaped[4 * sizeof(line)], *printed = NULL;
        size_t printed_size = 0;
        Reply reply;
        FILE *f;

        if (size >= sizeof(line))
                return 0;
        memcpy(line, data, size);
        line[size] = '\0';

        /* What the link refuses it shows escaped, and the escape is text itself. */
        if (!text_is_printable(line)) {
                if (!text_is_printable(text_escape(line, escaped, sizeof(escaped))))
                        abort();
                return 0;
        }
        if (protocol_parse_reply(line, &reply) < 0 || reply.type != REPLY_TEMP)
                return 0;

        f = open_memstream(&printed, &printed_size);
        if (!f)
                return 0;
        for (Unit unit = 0; unit < _UNIT_MAX; unit++)
                for (OutputFormat format = 0; format < _OUTPUT_MAX; format++) {
                        Output o = {
                                .f = f,
                                .format = format,
                                .unit = unit,
                                .named = reply.reading.sensor != NULL,
                                .name_width = reply.reading.sensor ? strlen(reply.reading.sensor) : 0,
                        };

                        output_reading(&o, &reply.reading);
                }
        fclose(f);
        /* Lines of text, and nothing a terminal would take for a command. */
        for (size_t i = 0; i < printed_size; i++)
                if (((unsigned char) printed[i] < 0x20 && printed[i] != '\n') || printed[i] == 0x7f)
                        abort();
        free(printed);
        return 0;
}

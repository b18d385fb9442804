/* SPDX-License-Identifier: MIT */
/* What a server may send to thermo-client: any line, parsed as a reply; a reading parsed back formats to
 * the same line. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char line[1024], again[PROTOCOL_REPLY_MAX];
        Reply reply;

        if (size >= sizeof(line))
                return 0;
        memcpy(line, data, size);
        line[size] = '\0';

        if (protocol_parse_reply(line, &reply) < 0 || reply.type != REPLY_TEMP)
                return 0;
        /* What we format, we parse back to the same values. */
        protocol_format_reading(again, sizeof(again), &reply.reading, reply.reading.sensor != NULL);
        again[strcspn(again, "\n")] = '\0';
        {
                Reply round;
                if (protocol_parse_reply(again, &round) < 0 || round.reading.seq != reply.reading.seq ||
                                round.reading.time_ms != reply.reading.time_ms ||
                                round.reading.millicelsius != reply.reading.millicelsius ||
                                !round.reading.sensor != !reply.reading.sensor ||
                                (round.reading.sensor && strcmp(round.reading.sensor, reply.reading.sensor) != 0))
                        abort();
        }
        return 0;
}

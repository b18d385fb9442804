#!/bin/bash
# The shared library does not log (systemd's CODING_STYLE, "Logging"): its functions return errors, and the
# programs that call them log. So no object of it but log.c's, the programs' logging helpers, may refer to
# those helpers, to the journal, or to stderr. Checked on the symbols the objects use, whatever macro or
# header brought them in.
#
#   check-library-silent.sh LIBRARY.a
set -euo pipefail
library="$1"
found=$(nm -A --undefined-only "$library" |
        awk '{ member = $1; symbol = $NF; sub(/:$/, "", member); sub(/^.*[:\/]/, "", member) }
             member !~ /^log\.c\.o$/ && symbol ~ /^(log_|sd_journal_|stderr$|perror$|warn|err$|errx$|syslog$|vsyslog$)/ {
                     print member ": " symbol
             }')
if [ -n "$found" ]; then
        echo "These files of $(basename "$library") log, which a library must not do (return the error instead):" >&2
        echo "$found" >&2
        exit 1
fi
echo "$(basename "$library"): no file logs but log.c"

#!/bin/sh
# The configure workload of bench/real.py: what an autoconf `configure` does between its
# compiler runs. /bin/sh runs many small programs, each by absolute path (through the
# merged-/usr symlinks /bin and /lib where configure would find them there), on small
# files in a scratch directory: test, expr, sed, grep, cat, tr, rm, mv, mkdir, uname,
# and a few preprocessor runs of a tiny file. Usage: configure.sh [CHECKS] (default 40
# checks of 9 programs each, plus 4 `cc -E`: about 370 programs).
set -e
checks=${1:-40}
dir=/tmp/conftest.$$
/bin/rm -rf "$dir"
/bin/mkdir -p "$dir"
cd "$dir"
cat >conftest.c <<'EOF'
#include <stdio.h>
#include <limits.h>
int main(void) { printf("%d\n", INT_MAX); return 0; }
EOF
: >confdefs.h
i=0
while /usr/bin/test "$i" -lt "$checks"; do
    # checking for feature NNN... (a header, a function, a library: here, a name)
    /usr/bin/test -f /usr/include/stdio.h
    echo "checking for feature_$i... yes" | /bin/sed -e 's/^checking for //' -e 's/\.\.\. yes$//' >conftest.out
    /bin/grep -q "feature_$i" conftest.out
    /bin/cat conftest.out >>config.log
    echo "#define HAVE_FEATURE_$i 1" | /usr/bin/tr a-z A-Z >>confdefs.h
    /bin/mv conftest.out conftest.old
    /bin/rm -f conftest.old
    /bin/uname -m >/dev/null
    i=$(/usr/bin/expr "$i" + 1)
done
j=0
while [ "$j" -lt 4 ]; do
    # checking how to run the C preprocessor... (cc runs cpp's cc1 in turn)
    /usr/bin/cc -E conftest.c >conftest.i
    j=$((j + 1))
done
/bin/grep -c HAVE_FEATURE confdefs.h >/dev/null
cd /
/bin/rm -rf "$dir"

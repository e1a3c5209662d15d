#!/usr/bin/env bash
# checksrc.sh -- the house bans, checked on every C file of the library.
#
# In src/ (comments and string literals are ignored):
#   banned everywhere:  sprintf strcpy strcat strncpy strtok sscanf atoi atol gets
#   raw allocation:     malloc calloc realloc free   (only src/core/alloc.c may)
#   floating point:     float double strtod atof     (only src/analytics/ and its
#                       public header include/stampede/analytics.h may)
# In cli/ and api/: the banned functions above (floating point is allowed in
# presentation code).
# Exceptions are listed, each with its reason, in scripts/checksrc.allow as
#   <path> <rule> <reason...>     (rule is one of: banned alloc float)
# Exit 1 and one line per violation (file:line: rule: text) when any is found.
set -euo pipefail
cd "$(dirname "$0")/.."
allow_file=scripts/checksrc.allow

mapfile -t files < <(git ls-files -co --exclude-standard -- 'src/*.c' 'src/*.h' 'cli/*.c' 'cli/*.h' 'api/*.c' 'api/*.h' 'include/*.h' || true)
[ ${#files[@]} -eq 0 ] && exit 0

perl -e '
use strict; use warnings;
my $allow_file = shift @ARGV;
my %allow;
if (open(my $a, "<", $allow_file)) {
    while (<$a>) {
        next if /^\s*(#|$)/;
        my ($path, $rule) = split;
        $allow{"$path $rule"} = 1 if defined $rule;
    }
}
my $bad = 0;
for my $f (@ARGV) {
    next unless -f $f;
    open(my $fh, "<", $f) or die "$f: $!";
    local $/; my $src = <$fh>; close $fh;
    # blank out comments and literals, keeping newlines so line numbers hold
    $src =~ s{(/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|\x27(?:\\.|[^\x27\\\n])*\x27)}{
        my $m = $1; (my $k = $m) =~ s/[^\n]/ /g; $k }gse;
    my @lines = split /\n/, $src, -1;
    my $in_src = $f =~ m{^(src|include)/};
    for my $i (0 .. $#lines) {
        my $l = $lines[$i];
        my @hits;
        push @hits, ["banned", $1] if $l =~ /\b(sprintf|vsprintf|strcpy|strcat|strncpy|strtok|sscanf|atoi|atol|atoll|gets)\s*\(/;
        if ($in_src) {
            push @hits, ["alloc", $1] if $f ne "src/core/alloc.c" && $l =~ /(?<![\w.>])(malloc|calloc|realloc|free)\s*\(/;
            push @hits, ["float", $1] if $f !~ m{^(src/analytics/|include/stampede/analytics\.h$)} && $l =~ /\b(float|double|strtod|strtof|atof)\b/;
        }
        for my $h (@hits) {
            next if $allow{"$f $h->[0]"};
            printf "%s:%d: %s: %s\n", $f, $i + 1, $h->[0], $h->[1];
            $bad = 1;
        }
    }
}
exit $bad;
' "$allow_file" "${files[@]}" && exit 0
echo "checksrc: violations found (see scripts/checksrc.sh for the rules)" >&2
exit 1

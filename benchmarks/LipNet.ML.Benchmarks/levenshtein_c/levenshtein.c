/* Reference C Levenshtein for comparing speed with LipNet.ML's managed one: the classic single-row
 * dynamic programme with common prefix/suffix stripping, the algorithm python-Levenshtein's
 * lev_edit_distance uses. Reads "reference\thypothesis" lines from stdin, times N passes.
 * Build: cc -O2 -o levenshtein levenshtein.c */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static size_t lev(const char *a, size_t n, const char *b, size_t m, size_t *row) {
    while (n && m && *a == *b) { a++; b++; n--; m--; }
    while (n && m && a[n - 1] == b[m - 1]) { n--; m--; }
    if (!n) return m;
    if (!m) return n;
    for (size_t j = 0; j <= m; j++) row[j] = j;
    for (size_t i = 1; i <= n; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= m; j++) {
            size_t up = row[j] + 1, left = row[j - 1] + 1, sub = diag + (a[i - 1] != b[j - 1]);
            diag = row[j];
            row[j] = up < left ? (up < sub ? up : sub) : (left < sub ? left : sub);
        }
    }
    return row[m];
}

int main(int argc, char **argv) {
    int passes = argc > 1 ? atoi(argv[1]) : 20;
    size_t cap = 1 << 16, count = 0;
    char **refs = malloc(cap * sizeof *refs), **hyps = malloc(cap * sizeof *hyps), line[4096];
    while (fgets(line, sizeof line, stdin) && count < cap) {
        char *tab = strchr(line, '\t');
        if (!tab) continue;
        *tab = 0;
        line[strcspn(tab + 1, "\n") + (tab + 1 - line)] = 0;
        refs[count] = strdup(line);
        hyps[count] = strdup(tab + 1);
        count++;
    }
    size_t *row = malloc(4096 * sizeof *row), total = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int p = 0; p < passes; p++)
        for (size_t i = 0; i < count; i++)
            total += lev(refs[i], strlen(refs[i]), hyps[i], strlen(hyps[i]), row);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double us = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / 1e3 / passes;
    printf("C Levenshtein: %zu pairs in %.1f us per pass (checksum %zu)\n", count, us, total / passes);
    return 0;
}

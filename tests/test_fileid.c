/*
 * File identity: heads read from real files, prefix compatibility, the
 * stored hash (its values must never change: they live in databases), and
 * offset markers.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agentwatch/fileid.h"
#include "testutil.h"

static void test_hash_is_stable(void)
{
    /* FNV-1a 64 reference values. */
    CU_ASSERT_TRUE(aw_hash64("", 0) == UINT64_C(0xcbf29ce484222325));
    CU_ASSERT_TRUE(aw_hash64("a", 1) == UINT64_C(0xaf63dc4c8601ec8c));
    CU_ASSERT_TRUE(aw_hash64("foobar", 6) == UINT64_C(0x85944171f73967e8));
}

static void test_head_compatible(void)
{
    const unsigned char *a = (const unsigned char *)"<event date='1'>";
    const unsigned char *b = (const unsigned char *)"<event date='1'><![CDATA[x]]>";
    const unsigned char *c = (const unsigned char *)"<event date='2'>";

    CU_ASSERT_TRUE(aw_fileid_head_compatible(a, strlen((const char *)a), b,
                                             strlen((const char *)b)));
    CU_ASSERT_TRUE(aw_fileid_head_compatible(b, strlen((const char *)b), a,
                                             strlen((const char *)a)));
    CU_ASSERT_FALSE(aw_fileid_head_compatible(a, strlen((const char *)a), c,
                                              strlen((const char *)c)));
    CU_ASSERT_FALSE(aw_fileid_head_compatible(a, 0, b, 5));   /* empty: nobody */
}

static void test_read_and_marker(void)
{
    char *dir = tu_mkdtemp();
    char *path = tu_path(dir, "agent.log");
    char *big = malloc(5000);
    struct aw_file_id id;
    struct aw_err err = { 0 };
    struct stat st;
    uint64_t marker;

    for (size_t i = 0; i < 5000; i++) {
        big[i] = (char)('a' + i % 26);
    }
    tu_write_file(path, big, 5000);
    CU_ASSERT_EQUAL_FATAL(aw_fileid_read(path, &id, &err), AW_OK);
    CU_ASSERT_EQUAL(id.size, 5000);
    CU_ASSERT_EQUAL(id.head_len, AW_HEAD_MAX);
    CU_ASSERT_EQUAL(memcmp(id.head, big, AW_HEAD_MAX), 0);
    CU_ASSERT_EQUAL(stat(path, &st), 0);
    CU_ASSERT_TRUE(id.ino == (uint64_t)st.st_ino && id.dev == (uint64_t)st.st_dev);

    CU_ASSERT_EQUAL(aw_fileid_marker(path, 0, &marker, &err), AW_OK);
    CU_ASSERT_TRUE(marker == 0);
    CU_ASSERT_EQUAL(aw_fileid_marker(path, 10, &marker, &err), AW_OK);
    CU_ASSERT_TRUE(marker == aw_hash64(big, 10));                 /* short prefix */
    CU_ASSERT_EQUAL(aw_fileid_marker(path, 4000, &marker, &err), AW_OK);
    CU_ASSERT_TRUE(marker == aw_hash64(big + 4000 - AW_MARKER_MAX, AW_MARKER_MAX));
    CU_ASSERT_EQUAL(aw_fileid_marker(path, 5001, &marker, &err), AW_ELIMIT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "shorter than offset 5001"));

    /* A small file's head is all of it. */
    tu_write_str(path, "tiny");
    CU_ASSERT_EQUAL(aw_fileid_read(path, &id, &err), AW_OK);
    CU_ASSERT_EQUAL(id.head_len, 4);

    /* Missing files and folders are told apart. */
    free(path);
    path = tu_path(dir, "gone.log");
    CU_ASSERT_EQUAL(aw_fileid_read(path, &id, &err), AW_ENOTFOUND);
    CU_ASSERT_EQUAL(aw_fileid_read(dir, &id, &err), AW_EDENIED);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "not a regular file"));
    free(big);
    free(path);
    tu_rmtree(dir);
    free(dir);
}

/* The stored form of a head (hashes only) keeps the prefix property: a
 * head stored while tiny matches the grown file exactly, a shorter head
 * now matches at the longest power of two it holds, and other content
 * never matches. */
static void test_head_sums(void)
{
    unsigned char big[AW_HEAD_MAX + 10], sums[AW_HEAD_SUMS_MAX];
    size_t n;

    for (size_t i = 0; i < sizeof(big); i++) {
        big[i] = (unsigned char)('a' + (i * 7) % 26);
    }
    n = aw_fileid_head_sums(big, 40, sums);
    CU_ASSERT_EQUAL(n, 8 * 7);   /* 1 2 4 8 16 32, then all 40 */
    CU_ASSERT_EQUAL(aw_fileid_head_common(40, sums, n, big, 40), 40);
    CU_ASSERT_EQUAL(aw_fileid_head_common(40, sums, n, big, AW_HEAD_MAX), 40);
    CU_ASSERT_EQUAL(aw_fileid_head_common(40, sums, n, big, 39), 32);
    CU_ASSERT_EQUAL(aw_fileid_head_common(40, sums, n, big, 3), 2);
    CU_ASSERT_EQUAL(aw_fileid_head_common(40, sums, n, big, 0), 0);
    big[20] ^= 1;
    CU_ASSERT_EQUAL(aw_fileid_head_common(40, sums, n, big, 100), 0);
    CU_ASSERT_EQUAL(aw_fileid_head_common(40, sums, n, big, 39), 0);
    CU_ASSERT_EQUAL(aw_fileid_head_common(40, sums, n, big, 16), 16);
    big[20] ^= 1;
    n = aw_fileid_head_sums(big, sizeof(big), sums);
    CU_ASSERT_EQUAL(n, 8 * 11);  /* capped at AW_HEAD_MAX: 1 ... 512, 1024 */
    CU_ASSERT_EQUAL(aw_fileid_head_common(AW_HEAD_MAX, sums, n, big, AW_HEAD_MAX), AW_HEAD_MAX);
    CU_ASSERT_EQUAL(aw_fileid_head_common(AW_HEAD_MAX, sums, n, big, 700), 512);
    /* Damaged sums never match nor read out of bounds. */
    CU_ASSERT_EQUAL(aw_fileid_head_common(AW_HEAD_MAX, sums, 16, big, 700), 0);
    CU_ASSERT_EQUAL(aw_fileid_head_common(AW_HEAD_MAX, sums, 5, big, AW_HEAD_MAX), 0);
}

static int reg(void)
{
    CU_pSuite s = CU_add_suite("fileid", NULL, NULL);

    if (s == NULL) {
        return 1;
    }
    CU_add_test(s, "hash is stable", test_hash_is_stable);
    CU_add_test(s, "head compatibility", test_head_compatible);
    CU_add_test(s, "head sums keep the prefix property", test_head_sums);
    CU_add_test(s, "read and marker", test_read_and_marker);
    return 0;
}

int main(int argc, char **argv)
{
    return tu_main(argc, argv, reg);
}

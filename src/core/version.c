/* version.c -- the library's version string. */
#include "stampede/stampede.h"

const char *sp_version(void)
{
    return SP_VERSION_STRING;
}

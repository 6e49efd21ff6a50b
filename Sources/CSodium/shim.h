#ifndef AUTHORITY_CSODIUM_SHIM_H
#define AUTHORITY_CSODIUM_SHIM_H
#include <sodium.h>
#endif

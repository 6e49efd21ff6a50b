// epoll and timerfd for authority-bench's load generator (Glibc's Swift module leaves them out).
#pragma once
#include <sys/epoll.h>
#include <sys/timerfd.h>

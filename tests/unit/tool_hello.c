/* tool_hello.c - placeholder helper program (shows how tools are built). */
#include <stdio.h>
int main(void) { puts("hello"); return 0; }

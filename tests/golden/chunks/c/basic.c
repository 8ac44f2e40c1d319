#include <stdio.h>
#include "list.h"
#include "../util/log.h"

#define CAPACITY 16

typedef struct Node {
    int value;
    struct Node *next;
} Node;

static int count = 0;

int list_push(Node **head, int value);

/* Push a value on the front of the list. */
int list_push(Node **head, int value)
{
    Node *node = malloc(sizeof *node);
    if (!node) {
        return -1;
    }
    node->value = value;
    node->next = *head;
    *head = node;
    count++;
    return 0;
}

void list_print(const Node *head)
{
    for (; head; head = head->next)
        printf("%d\n", head->value);
}

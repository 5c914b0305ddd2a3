/*
 * task.h -- work another thread hands to a worker's thread (worker_post in
 * daemon/worker.h): wait.c's wake-ups, a dump producer's wake-up
 * (daemon/admin_crawler.c).  Its own header so that the executor can embed
 * one without seeing worker internals.
 */
#ifndef STASHD_DAEMON_TASK_H
#define STASHD_DAEMON_TASK_H

/*
 * A node embedded in the poster's own object, so posting allocates
 * nothing.  run() executes it on the worker's thread when the post
 * arrives; drop() frees it instead if the worker is destroyed first.
 */
struct worker_task {
    struct worker_task *next;
    void (*run)(struct worker_task *t);
    void (*drop)(struct worker_task *t);
};

#endif

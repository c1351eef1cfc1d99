/*
 * fake_sched: deterministic virtual-time FreeRTOS tasks, esp_timer and radio events (see
 * fake_idf.h). One token (s_running) says who runs: -1 the driver, otherwise a task index.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp_timer.h"
#include "fake_idf.h"
#include "freertos/task.h"

#define S_MAX_TASKS 8
#define S_MAX_TIMERS 4
#define S_MAX_EVENTS 64

enum { S_NEW, S_BLOCKED, S_RUNNING, S_EXITED };

typedef struct {
    pthread_t th;
    TaskFunction_t fn;
    void *arg;
    uint64_t wake_us;
    int state;
} s_task_t;

struct esp_timer {
    esp_timer_create_args_t args;
    uint64_t period_us;
    uint64_t next_us;
    bool active;
};

static pthread_mutex_t s_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t s_cv = PTHREAD_COND_INITIALIZER;
static s_task_t s_tasks[S_MAX_TASKS];
static int s_ntasks;
static int s_running = -1;
static bool s_stop;
static uint64_t s_now;
static struct esp_timer s_timers[S_MAX_TIMERS];
static int s_ntimers;
static bool s_in_timer;

typedef struct {
    uint64_t at;
    void (*fn)(void *);
    void *arg;
    bool used;
} s_event_t;
static s_event_t s_events[S_MAX_EVENTS];

uint64_t fake_now_us(void)
{
    return s_now;
}

int64_t esp_timer_get_time(void)
{
    return (int64_t)s_now;
}

static int s_self(void)
{
    for (int i = 0; i < s_ntasks; i++) {
        if (pthread_equal(pthread_self(), s_tasks[i].th)) {
            return i;
        }
    }
    return -1;
}

/* Caller holds s_mu: hand the token back to the driver and end this thread. */
static void s_exit_locked(int me)
{
    s_tasks[me].state = S_EXITED;
    s_running = -1;
    pthread_cond_broadcast(&s_cv);
    pthread_mutex_unlock(&s_mu);
    pthread_exit(NULL);
}

/* Wait (holding s_mu) until the driver hands us the token. */
static void s_wait_turn_locked(int me)
{
    while (s_running != me) {
        pthread_cond_wait(&s_cv, &s_mu);
    }
    if (s_stop) {
        s_exit_locked(me);
    }
    s_tasks[me].state = S_RUNNING;
}

static void *s_task_main(void *p)
{
    int me = (int)(intptr_t)p;
    pthread_mutex_lock(&s_mu);
    s_wait_turn_locked(me);
    pthread_mutex_unlock(&s_mu);
    s_tasks[me].fn(s_tasks[me].arg);
    pthread_mutex_lock(&s_mu);
    s_exit_locked(me);
    return NULL;
}

void fake_block_until(uint64_t t)
{
    int me = s_self();
    if (me < 0) {
        return;
    }
    pthread_mutex_lock(&s_mu);
    s_tasks[me].wake_us = t;
    s_tasks[me].state = S_BLOCKED;
    s_running = -1;
    pthread_cond_broadcast(&s_cv);
    s_wait_turn_locked(me);
    pthread_mutex_unlock(&s_mu);
}

BaseType_t xTaskCreatePinnedToCore(TaskFunction_t fn, const char *const name, const uint32_t stack, void *const arg,
                                   UBaseType_t prio, TaskHandle_t *const out, const BaseType_t core)
{
    (void)name;
    (void)stack;
    (void)prio;
    (void)core;
    if (s_ntasks >= S_MAX_TASKS) {
        return pdFAIL;
    }
    int me = s_ntasks;
    s_tasks[me] = (s_task_t){.fn = fn, .arg = arg, .wake_us = s_now, .state = S_NEW};
    if (pthread_create(&s_tasks[me].th, NULL, s_task_main, (void *)(intptr_t)me) != 0) {
        return pdFAIL;
    }
    s_ntasks++;
    if (out) {
        *out = &s_tasks[me];
    }
    return pdPASS;
}

BaseType_t xTaskCreate(TaskFunction_t fn, const char *const name, const uint32_t stack, void *const arg,
                       UBaseType_t prio, TaskHandle_t *const out)
{
    return xTaskCreatePinnedToCore(fn, name, stack, arg, prio, out, 0);
}

void vTaskDelete(TaskHandle_t task)
{
    int me = s_self();
    if (task != NULL || me < 0) {
        fprintf(stderr, "fake_sched: vTaskDelete supports only the calling task (NULL)\n");
        abort();
    }
    pthread_mutex_lock(&s_mu);
    s_exit_locked(me);
}

void fake_call_at(uint64_t t, void (*fn)(void *), void *arg)
{
    for (int i = 0; i < S_MAX_EVENTS; i++) {
        if (!s_events[i].used) {
            s_events[i] = (s_event_t){.at = t, .fn = fn, .arg = arg, .used = true};
            return;
        }
    }
    fprintf(stderr, "fake_sched: more than %d pending radio events\n", S_MAX_EVENTS);
    abort();
}

bool fake_in_timer_callback(void)
{
    return s_in_timer && s_self() < 0;
}

void vTaskDelay(const TickType_t ticks)
{
    fake_block_until(s_now + (uint64_t)ticks * (1000000u / configTICK_RATE_HZ));
}

esp_err_t esp_timer_create(const esp_timer_create_args_t *args, esp_timer_handle_t *out)
{
    if (!args || !out || !args->callback) {
        return ESP_ERR_INVALID_ARG;
    }
    if (s_ntimers >= S_MAX_TIMERS) {
        return ESP_ERR_NO_MEM;
    }
    struct esp_timer *t = &s_timers[s_ntimers++];
    memset(t, 0, sizeof(*t));
    t->args = *args;
    *out = t;
    return ESP_OK;
}

esp_err_t esp_timer_start_periodic(esp_timer_handle_t t, uint64_t period)
{
    if (!t || period == 0) {
        return ESP_ERR_INVALID_ARG;
    }
    if (t->active) {
        return ESP_ERR_INVALID_STATE;
    }
    t->period_us = period;
    t->next_us = s_now + period;
    t->active = true;
    return ESP_OK;
}

esp_err_t esp_timer_stop(esp_timer_handle_t t)
{
    if (!t || !t->active) {
        return ESP_ERR_INVALID_STATE;
    }
    t->active = false;
    return ESP_OK;
}

esp_err_t esp_timer_delete(esp_timer_handle_t t)
{
    return t && !t->active ? ESP_OK : ESP_ERR_INVALID_STATE;
}

/* Earliest due event <= target: a timer (kind 1), then a radio event (kind 3), then a task
 * (kind 2) at the same instant. */
static int s_next_event(uint64_t target, int *index, uint64_t *when)
{
    int kind = 0;
    uint64_t best = target + 1;
    for (int i = 0; i < s_ntimers; i++) {
        if (s_timers[i].active && s_timers[i].next_us < best) {
            best = s_timers[i].next_us;
            kind = 1;
            *index = i;
        }
    }
    for (int i = 0; i < S_MAX_EVENTS; i++) {
        if (s_events[i].used && s_events[i].at < best) {
            best = s_events[i].at;
            kind = 3;
            *index = i;
        }
    }
    for (int i = 0; i < s_ntasks; i++) {
        int st = s_tasks[i].state;
        if ((st == S_NEW || st == S_BLOCKED) && s_tasks[i].wake_us < best) {
            best = s_tasks[i].wake_us;
            kind = 2;
            *index = i;
        }
    }
    *when = best;
    return kind;
}

void fake_advance_to(uint64_t target)
{
    pthread_mutex_lock(&s_mu);
    for (;;) {
        int idx = -1;
        uint64_t when;
        int kind = s_next_event(target, &idx, &when);
        if (kind == 0) {
            break;
        }
        if (when > s_now) {
            s_now = when;
        }
        if (kind == 1) {
            struct esp_timer *t = &s_timers[idx];
            t->next_us += t->period_us;
            pthread_mutex_unlock(&s_mu);
            s_in_timer = true;
            t->args.callback(t->args.arg);
            s_in_timer = false;
            pthread_mutex_lock(&s_mu);
        } else if (kind == 3) {
            s_event_t ev = s_events[idx];
            s_events[idx].used = false;
            pthread_mutex_unlock(&s_mu);
            ev.fn(ev.arg);
            pthread_mutex_lock(&s_mu);
        } else {
            s_running = idx;
            pthread_cond_broadcast(&s_cv);
            while (s_running != -1) {
                pthread_cond_wait(&s_cv, &s_mu);
            }
        }
    }
    if (target > s_now) {
        s_now = target;
    }
    pthread_mutex_unlock(&s_mu);
}

void fake_shutdown(void)
{
    pthread_mutex_lock(&s_mu);
    s_stop = true;
    for (int i = 0; i < s_ntasks; i++) {
        if (s_tasks[i].state != S_EXITED) {
            s_running = i;
            pthread_cond_broadcast(&s_cv);
            while (s_running != -1) {
                pthread_cond_wait(&s_cv, &s_mu);
            }
        }
    }
    pthread_mutex_unlock(&s_mu);
    for (int i = 0; i < s_ntasks; i++) {
        pthread_join(s_tasks[i].th, NULL);
    }
    s_ntasks = 0;
    s_ntimers = 0;
    memset(s_events, 0, sizeof(s_events));
    s_stop = false;
}

// notifications: notification delivery under load (Coder's load type of that name).
export { runNotifications, executeNotifications, LATENCY_RESULT_METRIC } from "./run.ts";
export { planNotifications, checkNotificationsOptions, splitUsers, triggerTemplateDescription, NotificationsInputError, type NotificationsPlan } from "./plan.ts";
export { notificationsMetrics, latencyBuckets, LATENCY_METRIC, ERRORS_METRIC } from "./metrics.ts";
export { notificationsRunner, notificationsPhaseResult, type NotificationsSettings } from "./phase.ts";
export { notificationsOptionsFromConfig } from "./options.ts";
export { renderNotificationsText } from "./render.ts";
export { InboxWatcher, inboxWatchUrl } from "./inbox.ts";
export { watchSmtp } from "./smtp.ts";
export { triggerTemplateDeleted, emptyTar } from "./trigger.ts";
export * from "./types.ts";

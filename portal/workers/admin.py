from django.contrib import admin

from portal.workers.models import TaskHeartbeat, WorkerNode


@admin.register(TaskHeartbeat)
class TaskHeartbeatAdmin(admin.ModelAdmin):
    """Running tasks and the lost ones the sweep has not resolved yet (read only)."""

    list_display = ["task_name", "task_id", "worker", "pid", "started_at", "beat_at", "lost_at"]
    list_filter = ["task_name", "worker"]
    search_fields = ["task_id"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WorkerNode)
class WorkerNodeAdmin(admin.ModelAdmin):
    """The workers running now and the queues each takes (read only)."""

    list_display = ["name", "queues", "pid", "started_at", "beat_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

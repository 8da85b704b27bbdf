"""The case vocabulary, defined once: statuses, the open and terminal sets, actions,
roles (workflow and account), levels, event sources, their standard Chinese labels, and
which actions need a reason.

Everything that names a status or an action imports it from here: the state machine,
storage constraints, access rules, importers, sample data, map layers and (through the
console's config endpoint) the web console, so a new status cannot be added in one place
and forgotten in another.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """Where a case is in the loop; ``label`` is the standard Chinese name."""

    REPORTED = "reported"
    REJECTED = "rejected"
    FILED = "filed"
    DISPATCHED = "dispatched"
    HANDLED = "handled"
    VERIFIED = "verified"
    CLOSED = "closed"
    EVALUATED = "evaluated"
    PARKED = "parked"
    MERGED = "merged"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]

    @property
    def terminal(self) -> bool:
        return self in TERMINAL


STATUS_LABELS: dict[Status, str] = {
    Status.REPORTED: "待受理",  # 已上报, awaiting acceptance
    Status.REJECTED: "不予立案",
    Status.FILED: "已立案",
    Status.DISPATCHED: "已派遣",
    Status.HANDLED: "已处置",
    Status.VERIFIED: "已核查",
    Status.CLOSED: "已结案",
    Status.EVALUATED: "已评价",
    Status.PARKED: "挂账",
    Status.MERGED: "已合并",
}
TERMINAL = frozenset({Status.REJECTED, Status.EVALUATED, Status.MERGED})
#: Statuses in which a case is still being worked on (not closed, not terminal).
OPEN = frozenset(
    {
        Status.REPORTED,
        Status.FILED,
        Status.DISPATCHED,
        Status.HANDLED,
        Status.VERIFIED,
        Status.PARKED,
    }
)
#: The open statuses as plain strings, in loop order (SQL ``IN`` lists, CHECK constraints).
OPEN_VALUES: tuple[str, ...] = tuple(s.value for s in Status if s in OPEN)
#: Every status as a plain string, in loop order.
STATUS_VALUES: tuple[str, ...] = tuple(s.value for s in Status)


class Action(StrEnum):
    """What a person or the system does to a case; ``label`` is the Chinese name."""

    REPORT = "report"  # creates the case: see open_case(); not in the transition table
    FILE = "file"
    REJECT = "reject"
    DISPATCH = "dispatch"
    RETURN = "return"
    HANDLE = "handle"
    VERIFY_PASS = "verify_pass"
    VERIFY_FAIL = "verify_fail"
    CLOSE = "close"
    EVALUATE = "evaluate"
    ESCALATE = "escalate"
    DELEGATE = "delegate"
    EXTEND = "extend"
    PARK = "park"
    RESUME = "resume"
    SUPERVISE = "supervise"
    URGE = "urge"
    MERGE = "merge"
    REROUTE = "reroute"
    REOPEN = "reopen"  # a dissatisfied follow-up sends a closed case back as rework

    @property
    def label(self) -> str:
        return ACTION_LABELS[self]


ACTION_LABELS: dict[Action, str] = {
    Action.REPORT: "采集上报",
    Action.FILE: "立案",
    Action.REJECT: "不予立案",
    Action.DISPATCH: "派遣",
    Action.RETURN: "退回",
    Action.HANDLE: "处置",
    Action.VERIFY_PASS: "核查通过",
    Action.VERIFY_FAIL: "核查不通过（返工）",
    Action.CLOSE: "结案",
    Action.EVALUATE: "评价",
    Action.ESCALATE: "上报",
    Action.DELEGATE: "下派",
    Action.EXTEND: "延期",
    Action.PARK: "挂账",
    Action.RESUME: "解除挂账",
    Action.SUPERVISE: "督办",
    Action.URGE: "催办",
    Action.MERGE: "合并",
    Action.REROUTE: "改派",
    Action.REOPEN: "重新办理（回访不满意）",
}


class Role(StrEnum):
    """Who acts; ``label`` is the Chinese job title."""

    DISPATCHER = "dispatcher"
    HANDLER = "handler"
    VERIFIER = "verifier"
    SUPERVISOR = "supervisor"
    GRID_MEMBER = "grid_member"
    ADMIN = "admin"
    SYSTEM = "system"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS: dict[Role, str] = {
    Role.DISPATCHER: "派遣员",
    Role.HANDLER: "处置人员",
    Role.VERIFIER: "核查员",
    Role.SUPERVISOR: "督办员",
    Role.GRID_MEMBER: "网格员",
    Role.ADMIN: "管理员",
    Role.SYSTEM: "系统",
}


class Level(StrEnum):
    """The handling level of a case in the three-level command system."""

    COMMUNITY = "community"
    STREET = "street"
    DISTRICT = "district"

    @property
    def label(self) -> str:
        return {"community": "社区", "street": "街道", "district": "区"}[self.value]

    @property
    def rank(self) -> int:
        return LEVELS_BY_RANK.index(self)


LEVELS_BY_RANK = (Level.COMMUNITY, Level.STREET, Level.DISTRICT)
"""Handling levels from the lowest to the highest."""

#: Actions that need a reason in ``note``.
REASON_REQUIRED = frozenset(
    {Action.REJECT, Action.RETURN, Action.VERIFY_FAIL, Action.PARK, Action.EXTEND}
)


# --- accounts and event sources ---------------------------------------------------------

#: Account roles (``users.role``; a CHECK constraint enforces them, so a new one needs a
#: migration). Most are also workflow :class:`Role` values; ``planner`` and ``analyst``
#: only use the map, boundaries and statistics.
ACCOUNT_ROLES: tuple[str, ...] = (
    "dispatcher",
    "planner",
    "analyst",
    "grid_member",
    "handler",
    "verifier",
    "supervisor",
    "admin",
)
_ACCOUNT_ONLY_LABELS = {"planner": "规划员", "analyst": "分析员"}
#: Chinese job title of every account role: a role that is also a workflow role has the
#: same label as :data:`ROLE_LABELS`, so the two tables cannot disagree.
ACCOUNT_ROLE_LABELS: dict[str, str] = {
    role: _ACCOUNT_ONLY_LABELS.get(role) or ROLE_LABELS[Role(role)] for role in ACCOUNT_ROLES
}

#: Where an event report comes from (``events.source``) and its Chinese name.
SOURCE_LABELS: dict[str, str] = {
    "12345": "12345政务服务便民热线",
    "110": "110非警务警情",
    "12315": "12315市场监管热线",
    "grid_member": "网格员上报",
    "resident_app": "居民随手拍",
    "iot": "物联感知",
    "ai_camera": "AI视频识别",
    "patrol": "巡查上报",
}
EVENT_SOURCES: tuple[str, ...] = tuple(SOURCE_LABELS)
"""The event sources, in their documented order."""


# --- cross-department tasks and follow-up (事项清单 / 主办协办 / 街呼区应 / 回访) ---------

#: A unit's part in a case: ``lead`` (主办, the case's own unit, shown from the case),
#: ``co`` (协办, a task of its own), ``call`` (街呼区应: a street calls a district body),
#: ``verify`` (核查: the event grid's grid member is assigned the site check).
TASK_ROLE_LABELS: dict[str, str] = {
    "lead": "主办",
    "co": "协办",
    "call": "街呼区应",
    "verify": "核查指派",
}
TASK_ROLES: tuple[str, ...] = tuple(TASK_ROLE_LABELS)
#: Task statuses; ``open`` and ``accepted`` are still running (block verification/closing).
TASK_STATUS_LABELS: dict[str, str] = {
    "open": "待签收",
    "accepted": "已签收",
    "returned": "已退回",
    "handled": "已办结",
    "answered": "已响应",
    "refused": "拒绝响应",
    "cancelled": "已撤销",
}
TASK_STATUSES: tuple[str, ...] = tuple(TASK_STATUS_LABELS)
TASK_RUNNING = frozenset({"open", "accepted"})
#: Task actions and their Chinese names.
TASK_ACTION_LABELS: dict[str, str] = {
    "create": "派发",
    "accept": "签收",
    "return": "退回",
    "handle": "办结反馈",
    "answer": "响应",
    "refuse": "拒绝响应",
    "urge": "催办",
    "escalate": "升级督办",
    "cancel": "撤销",
}
TASK_ACTIONS: tuple[str, ...] = tuple(TASK_ACTION_LABELS)
#: Follow-up (回访) states: waiting, answered with a satisfaction, or unreachable.
FOLLOWUP_LABELS: dict[str, str] = {
    "pending": "待回访",
    "answered": "已回访",
    "unreachable": "无法联系",
}
FOLLOWUP_RESULTS: tuple[str, ...] = tuple(FOLLOWUP_LABELS)
#: What a closure standard can require, with its Chinese name (事项清单 结案标准).
CLOSURE_LABELS: dict[str, str] = {
    "after_photo": "处置后照片",
    "measurement": "测量值",
    "site_check": "网格员现场核查（照片与位置）",
    "co_tasks_done": "协办任务全部办结",
    "co_unit": "至少一个协办单位",
}

#: Sources gridgov raises itself (not reported from outside, not in the sample year):
#: ``vitals`` = a vital-sign threshold crossed (gis_core.analytics.vitals).
SYSTEM_SOURCE_LABELS: dict[str, str] = {"vitals": "城市体征告警"}
SOURCE_LABELS.update(SYSTEM_SOURCE_LABELS)
INTAKE_SOURCES: tuple[str, ...] = EVENT_SOURCES + tuple(SYSTEM_SOURCE_LABELS)
"""Every source intake accepts: the event sources and gridgov's own."""

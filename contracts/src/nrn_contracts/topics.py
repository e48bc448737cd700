"""The topic registry: every Kafka topic, who writes it, who reads it, how it is keyed.

Infrastructure (topic creation, FastStream subscribers, the AsyncAPI document) is derived from
this registry, so a topic's partition count lives here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass

ACCOUNTS_TOPIC = "nrn.accounts.v1"
# Security messages (mailbox confirmation and password reset links): read by notifications only,
# never by analytics or partners — the records carry single-use link secrets.
ACCOUNTS_SECURITY_TOPIC = "nrn.accounts.security.v1"
REQUESTS311_TOPIC = "nrn.requests311.v1"
LIBRARY_TOPIC = "nrn.library.v1"
ENGAGEMENTS_TOPIC = "nrn.engagements.v1"
PEER_TOPIC = "nrn.peer.v1"
# Webhook deliveries' own facts (an endpoint disabled): read by notifications, which tells the
# partner's administrators. Not external: it names partners' URLs and their failures.
PARTNERS_TOPIC = "nrn.partners.v1"
# Compacted "latest state" topics: one record per key, the newest, so a new consumer starts from
# current state instead of replaying the whole history. Written by accounts' latest-state projector.
CITIES_LATEST_TOPIC = "nrn.accounts.cities.latest.v1"
ACCOUNTS_LATEST_TOPIC = "nrn.accounts.accounts.latest.v1"

# Partitions bound how many replicas of a consumer group do useful work (each partition is read by
# one member), and they cannot be lowered once a topic exists; raising them later moves keys to other
# partitions, so one aggregate's order holds only for records written after the change. Throughput is
# nowhere near a partition's limit (deploy/README.md: tens of events a minute at ~300 cities, a few a
# second at national scale): what partitions buy is consumers that catch up in parallel — a service
# that starts for the first time, or rebuilds a read model, replays a topic from its start, and the
# domain topics are kept for ever. 3 lets three replicas of every consumer share the work; the two
# topics that nearly every service reads and that grow with every city and question get 6, sized
# for the national scale-out so they never need raising.
DEFAULT_PARTITIONS = 3
WIDE_PARTITIONS = 6
DLQ_SUFFIX = ".dlq"
# Dead letters are few and read by an operator: one partition keeps them in the order they were parked.
DLQ_PARTITIONS = 1

DAY_MS = 24 * 3600 * 1000
# retention_ms None = kept for ever (retention.ms -1). The domain topics are the record the read
# models are built from (a service that starts for the first time reads a topic from its start), so
# they are never cut; what expires is what is useless later (single-use links) or operational.
FOREVER: int | None = None
DLQ_RETENTION_MS = 90 * DAY_MS  # long enough to notice, fix and redrive

# Readers outside the services: the analytics sink and the partner webhook deliveries
# (consortium members, federal agencies) see every topic.
EXTERNAL_CONSUMERS: tuple[str, ...] = ("analytics", "partners")


@dataclass(frozen=True)
class Topic:
    name: str
    partitions: int
    key: str  # the payload field(s) holding the aggregate id that keys the records
    owner: str  # the only service that publishes to the topic
    consumers: tuple[str, ...]
    description: str
    retention_ms: int | None = FOREVER  # None: for ever
    # compacted: the broker keeps at least the newest record of every key (cleanup.policy=compact)
    compacted: bool = False

    def configs(self) -> dict[str, str]:
        """The topic's broker configuration, applied when it is created (nrn_kit.kafka.ensure_topics)."""
        if self.compacted:
            # a dirty ratio and segment age low enough that a key's old records go within the hour
            return {"cleanup.policy": "compact", "retention.ms": "-1", "min.cleanable.dirty.ratio": "0.1",
                    "segment.ms": str(3600 * 1000)}
        return {"cleanup.policy": "delete",
                "retention.ms": "-1" if self.retention_ms is None else str(self.retention_ms)}


def _topic(name: str, *, key: str, owner: str, consumers: tuple[str, ...], description: str,
           external: bool = True, retention_ms: int | None = FOREVER, compacted: bool = False,
           partitions: int = DEFAULT_PARTITIONS) -> Topic:
    return Topic(
        name=name,
        partitions=partitions,
        key=key,
        owner=owner,
        consumers=consumers + (EXTERNAL_CONSUMERS if external else ()),
        description=description,
        retention_ms=retention_ms,
        compacted=compacted,
    )


TOPICS: dict[str, Topic] = {
    t.name: t
    for t in (
        _topic(
            ACCOUNTS_TOPIC,
            # Three aggregates share the topic; each event is keyed by its own aggregate, so
            # order holds per city, per account and per partner, not across them.
            key="city_id | account_id | partner_id",
            owner="accounts",
            # notifications keeps people, roles and cities to decide who is told what; engagements
            # keeps cities (eligibility) and people (names, reviewer and team roles); peer keeps
            # cities and people (registrants, group members, the contact a city may share).
            consumers=("requests311", "library", "notifications", "engagements", "peer"),
            description="Cities, their indicators and eligibility; accounts, their verification and roles; partners.",
            # read by five services; grows with every city's indicators and every person
            partitions=WIDE_PARTITIONS,
        ),
        _topic(
            ACCOUNTS_SECURITY_TOPIC,
            key="account_id",
            owner="accounts",
            consumers=("notifications",),
            description="Security messages to send: mailbox confirmation and password reset links "
                        "(single-use, expiring secrets; never for analytics or partners).",
            external=False,
            # the links expire within a day; nothing later can use them
            retention_ms=7 * DAY_MS,
        ),
        _topic(
            REQUESTS311_TOPIC,
            key="request_id",
            owner="requests311",
            # library keeps the public record of answered questions; notifications tells people;
            # engagements shows the answered questions of cities with similar barriers (peer context);
            # peer suggests introductions between cities that asked about the same subject.
            consumers=("library", "notifications", "engagements", "peer"),
            description="311 for Cities: a question's life from submission to memo, call, feedback and close.",
            # read by four services; the busiest stream (several events per question)
            partitions=WIDE_PARTITIONS,
        ),
        _topic(
            LIBRARY_TOPIC,
            key="resource_id",
            owner="library",
            consumers=("requests311",),
            description="The resource library: published, updated and archived resources; answers found before asking.",
        ),
        _topic(
            ENGAGEMENTS_TOPIC,
            key="application_id | engagement_id",
            owner="engagements",
            # library publishes close-out reports; peer reads the application's "peer connections"
            # answer and the city's barriers for introductions; notifications tells the city and staff.
            consumers=("library", "notifications", "peer"),
            description="Direct technical assistance: applications (drafted, submitted, withdrawn, reviewed, "
                        "scored, decided, promoted from the waitlist) and engagements (opened, assessed, work "
                        "plan agreed, milestones completed, closed).",
        ),
        _topic(
            PEER_TOPIC,
            # Several aggregates share the topic, each event keyed by its own: a convening with its
            # registrations and materials, a group (working group or steering committee), an introduction;
            # a health measure, a health import, a city's health dashboard; a volunteer, a pro bono project
            # with its matches and hours.
            key="convening_id | working_group_id | introduction_id | measure_id | import_id | city_id | "
                "volunteer_id | project_id",
            owner="peer",
            # library publishes convenings, their materials and working groups' deliverables;
            # notifications tells registrants where they stand (registered, waitlisted, offered, cancelled),
            # volunteers and cities about pro bono matches offered and accepted, and cities about hours to approve.
            consumers=("library", "notifications"),
            description="Peer networking: convenings, registrations and waitlists, materials; working groups and "
                        "the Peer Steering Committee, their members, decisions and deliverables; peer introductions; the "
                        "Peer Health Group's health measures, imports and published city dashboards; the pro bono "
                        "talent network's volunteers, projects, matches, hours and outcomes.",
        ),
        _topic(
            PARTNERS_TOPIC,
            key="endpoint_id",
            owner="partners",
            consumers=("notifications",),
            description="Partner webhook subscriptions: an endpoint disabled (gone, or retries exhausted), "
                        "for the partner's administrators to be told.",
            external=False,
            retention_ms=90 * DAY_MS,
        ),
        _topic(
            CITIES_LATEST_TOPIC,
            key="city_id",
            owner="accounts",
            consumers=(),
            description="Latest state of every city (name, state, population, indicators, eligibility), one "
                        "compacted record per city: read it from the start to know every city now.",
            compacted=True,
        ),
        _topic(
            ACCOUNTS_LATEST_TOPIC,
            key="account_id",
            owner="accounts",
            consumers=(),
            description="Latest state of every account (kind, status, city or partner, roles; no name, email "
                        "or phone), one compacted record per account.",
            compacted=True,
        ),
    )
}


def dlq_topic(name: str) -> str:
    """The dead-letter topic beside ``name``."""
    return name + DLQ_SUFFIX


def dlq_partitions() -> int:
    """Partition count of every dead-letter topic."""
    return DLQ_PARTITIONS


def dlq_configs() -> dict[str, str]:
    """Configuration of every dead-letter topic: kept DLQ_RETENTION_MS, long enough to fix and redrive."""
    return {"cleanup.policy": "delete", "retention.ms": str(DLQ_RETENTION_MS)}

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

DEFAULT_PARTITIONS = 3
DLQ_SUFFIX = ".dlq"

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


def _topic(name: str, *, key: str, owner: str, consumers: tuple[str, ...], description: str,
           external: bool = True) -> Topic:
    return Topic(
        name=name,
        partitions=DEFAULT_PARTITIONS,
        key=key,
        owner=owner,
        consumers=consumers + (EXTERNAL_CONSUMERS if external else ()),
        description=description,
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
        ),
        _topic(
            ACCOUNTS_SECURITY_TOPIC,
            key="account_id",
            owner="accounts",
            consumers=("notifications",),
            description="Security messages to send: mailbox confirmation and password reset links "
                        "(single-use, expiring secrets; never for analytics or partners).",
            external=False,
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
            # answer and the city's barriers for introductions.
            consumers=("library", "peer"),
            description="Direct technical assistance: applications (drafted, submitted, withdrawn, reviewed, "
                        "scored, decided, promoted from the waitlist) and engagements (opened, assessed, work "
                        "plan agreed, milestones completed, closed).",
        ),
        _topic(
            PEER_TOPIC,
            # Three aggregates share the topic, each event keyed by its own: a convening with its
            # registrations and materials, a group (working group or steering committee), an introduction.
            key="convening_id | working_group_id | introduction_id",
            owner="peer",
            # library publishes convenings, their materials and working groups' deliverables.
            consumers=("library",),
            description="Peer networking: convenings, registrations and waitlists, materials; working groups and "
                        "the Peer Steering Committee, their members, decisions and deliverables; peer introductions.",
        ),
    )
}


def dlq_topic(name: str) -> str:
    """The dead-letter topic beside ``name``."""
    return name + DLQ_SUFFIX

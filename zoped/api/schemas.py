"""Request and response schemas of the JSON API, separate from the tables."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from zoped.domain.evidence import EvidenceKind

ID_FIELD = Field(min_length=1, max_length=64)


class ProblemOut(BaseModel):
    """One thing wrong with the input, and where."""

    location: str
    message: str


class ErrorDetail(BaseModel):
    """The error itself."""

    status: int
    code: str
    message: str
    problems: list[ProblemOut] = []


class ErrorBody(BaseModel):
    """Every API error has this shape."""

    error: ErrorDetail


class MePublic(BaseModel):
    """The caller."""

    id: str
    school_id: str
    role: str
    display_name: str
    scopes: list[str] | None = Field(
        description="The token's scopes; null for a signed-in session (every scope)."
    )


class LearnerPublic(BaseModel):
    """A learner as the API shows them."""

    id: str
    school_id: str
    display_name: str


class LearnerPage(BaseModel):
    """A page of learners the caller may see."""

    items: list[LearnerPublic]
    total: int
    limit: int
    offset: int


class EvidenceCreate(BaseModel):
    """A piece of evidence to record; the id makes a retry harmless."""

    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID
    learner_id: str = ID_FIELD
    kind: EvidenceKind
    occurred_at: AwareDatetime
    item_id: str | None = Field(None, min_length=1, max_length=64)
    activity_id: str | None = Field(None, min_length=1, max_length=64)
    competency_ids: list[str] = Field(default_factory=list, max_length=50)
    correct: bool | None = None
    score: float | None = Field(None, ge=0.0, le=1.0)
    duration_s: float | None = Field(None, ge=0.0, le=86_400.0)
    hints_used: int = Field(0, ge=0, le=1000)
    note: str = Field("", max_length=2000)
    payload: dict[str, Any] = Field(default_factory=dict)
    supersedes: uuid.UUID | None = None


class EvidencePublic(BaseModel):
    """A recorded piece of evidence."""

    id: uuid.UUID
    learner_id: str
    kind: str
    occurred_at: AwareDatetime
    recorded_at: AwareDatetime
    source: str
    item_id: str | None
    activity_id: str | None
    competency_ids: list[str]
    correct: bool | None
    score: float | None
    duration_s: float | None
    hints_used: int


class EvidenceRecorded(BaseModel):
    """The outcome of POST /evidence: ``recorded`` (201) or ``duplicate`` (200)."""

    status: str
    event: EvidencePublic


class ErasureRequestPublic(BaseModel):
    """A request to erase a learner: it is carried out at ``due_at`` (the end of the grace
    period) unless it is cancelled before."""

    id: uuid.UUID
    learner_id: str
    status: str = Field(description="pending, cancelled or done.")
    requested_by: str | None
    requested_at: AwareDatetime
    due_at: AwareDatetime
    closed_at: AwareDatetime | None = None


class CompetencyStatePublic(BaseModel):
    """One competency of a learner's state, as the learner's pages show it."""

    competency_id: str
    title: str
    group_id: str | None
    level: str
    derived_level: str = Field(description="The level the evidence alone gives.")
    p_known: float = Field(description="The knowledge model's P(known), strictly in (0, 1).")
    p_correct: float = Field(description="Chance of a right answer on a typical next item.")
    evidence_count: int
    n_correct: int
    unlocked: bool
    practisable: bool
    last_practised: AwareDatetime | None
    retrievability: float | None = Field(description="Predicted recall now (null: never seen).")
    review_due_at: AwareDatetime | None
    notes: list[str]


class LevelCountsPublic(BaseModel):
    """How many competencies are at each level; ``mastered`` includes those due for review."""

    not_started: int
    attempted: int
    familiar: int
    proficient: int
    mastered: int
    review_due: int
    total: int


class LearnerStatePublic(BaseModel):
    """A learner's state on one course: levels, chances and review dates."""

    learner_id: str
    course_id: str
    course_title: str
    computed_at: AwareDatetime
    parameter_version: str = Field(description="Fingerprint of the model parameters used.")
    models_fitted: bool
    n_events: int
    counts: LevelCountsPublic
    competencies: list[CompetencyStatePublic]


class MenuOptionPublic(BaseModel):
    """One next step on the learner's menu, with its reason."""

    activity_id: str
    title: str
    modality: str
    competencies: list[str]
    reason: str
    p_success: float


class MenuPublic(BaseModel):
    """The learner's menu, as their home page shows it; ``decision_id`` names the logged
    decision (what a pick refers to)."""

    decision_id: uuid.UUID
    seed: int
    options: list[MenuOptionPublic]
    empty_reason: str
    page: int = 0

"""Request and response shapes of the passes API (/api/v1/passes/)."""

from ninja import Field, Schema


class ResolveIn(Schema):
    token: str = Field(
        ..., max_length=200, description="What the scanner read or the person typed."
    )


class PassHolderOut(Schema):
    """Who holds the pass: enough for a gate to know who stands there, no more."""

    pass_id: int
    resident_id: int
    household_id: int
    name_masked: str
    place: str
    presence: str
    age: int | None
    tags: list[str]


class IssueIn(Schema):
    reason: str = Field("", max_length=200)


class IssueOut(Schema):
    pass_id: int
    token: str = Field(..., description="The 16 characters the QR holds.")
    grouped: str = Field(..., description="The token in groups of four, for typing from a card.")


class RevokeIn(Schema):
    reason: str = Field(..., max_length=200)


class RevokeOut(Schema):
    pass_id: int
    status: str

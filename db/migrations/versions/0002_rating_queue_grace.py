"""the rating queue's grace: days an unrated MQL stays in the queue after the SLA's rating days

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06 22:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every version of the terms already stored gets the default grace, so the queue's window is defined
    # for the terms in force the moment the schema is upgraded.
    with op.batch_alter_table("sla_settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rating_grace_days", sa.Integer(), server_default="14", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("sla_settings", schema=None) as batch_op:
        batch_op.drop_column("rating_grace_days")

"""Social care status per child, as the council's social care system reports it (issue 5)

Revision ID: 3c1f5e9a7d20
Revises: bf2da208a146
Create Date: 2026-11-28 00:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from migrations.rls import disable_tenant_rls, enable_tenant_rls

revision = '3c1f5e9a7d20'
down_revision = 'bf2da208a146'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('social_care_status',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('child_id', sa.Uuid(), nullable=False),
    sa.Column('looked_after', sa.Boolean(), nullable=False),
    sa.Column('child_in_need', sa.Boolean(), nullable=False),
    sa.Column('child_protection_plan', sa.Boolean(), nullable=False),
    sa.Column('social_worker', sa.String(length=200), nullable=True),
    sa.Column('as_of', sa.Date(), nullable=True),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('refreshed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'child_id'], ['child.tenant_id', 'child.id'],
                            name='fk_social_care_status_tenant_id_child_id_child', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_social_care_status_tenant_id_tenant'),
                            ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_social_care_status')),
    sa.UniqueConstraint('tenant_id', 'child_id', name='uq_social_care_status_tenant_id_child_id')
    )
    op.create_index(op.f('ix_social_care_status_tenant_id'), 'social_care_status', ['tenant_id'], unique=False)
    enable_tenant_rls('social_care_status')


def downgrade() -> None:
    disable_tenant_rls('social_care_status')
    op.drop_index(op.f('ix_social_care_status_tenant_id'), table_name='social_care_status')
    op.drop_table('social_care_status')

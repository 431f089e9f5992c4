"""Transfers of EHC plans between councils (issue 6)

Revision ID: 7a1c0e8f2b31
Revises: 3c1f5e9a7d20
Create Date: 2026-11-28 00:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations.rls import disable_tenant_rls, enable_tenant_rls

revision = '7a1c0e8f2b31'
down_revision = '3c1f5e9a7d20'
branch_labels = None
depends_on = None


_ACTIVE = "direction = 'outgoing' AND status IN ('planned', 'failed')"


def upgrade() -> None:
    op.create_table('plan_transfer',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('ref', sa.Uuid(), nullable=False),
    sa.Column('direction', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=True),
    sa.Column('received_case_id', sa.Uuid(), nullable=True),
    sa.Column('received_case_ref', sa.Uuid(), nullable=True),
    sa.Column('from_la_code', sa.String(length=3), nullable=False),
    sa.Column('from_la_name', sa.String(length=200), nullable=False),
    sa.Column('to_la_code', sa.String(length=3), nullable=False),
    sa.Column('to_la_name', sa.String(length=200), nullable=False),
    sa.Column('receiver_on_platform', sa.Boolean(), nullable=False),
    sa.Column('health_body_changes', sa.Boolean(), nullable=False),
    sa.Column('move_on', sa.Date(), nullable=False),
    sa.Column('became_aware_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('transferred_on', sa.Date(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('alert', sa.String(length=12), nullable=True),
    sa.Column('alert_raised_on', sa.Date(), nullable=True),
    sa.Column('child_given_name', sa.String(length=100), nullable=False),
    sa.Column('child_family_name', sa.String(length=100), nullable=False),
    sa.Column('child_date_of_birth', sa.Date(), nullable=False),
    sa.Column('package_document_id', sa.Uuid(), nullable=True),
    sa.Column('history', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('updated_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'case_id'], ['ehc_case.tenant_id', 'ehc_case.id'],
                            name='fk_plan_transfer_tenant_id_case_id_ehc_case', ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id', 'received_case_id'], ['ehc_case.tenant_id', 'ehc_case.id'],
                            name='fk_plan_transfer_tenant_id_received_case_id_ehc_case', ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_plan_transfer_tenant_id_tenant'),
                            ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_transfer')),
    sa.UniqueConstraint('tenant_id', 'id', name='uq_plan_transfer_tenant_id_id'),
    sa.UniqueConstraint('tenant_id', 'ref', name='uq_plan_transfer_tenant_id_ref'),
    )
    op.create_index(op.f('ix_plan_transfer_tenant_id'), 'plan_transfer', ['tenant_id'], unique=False)
    op.create_index('ix_plan_transfer_tenant_id_direction_status', 'plan_transfer',
                    ['tenant_id', 'direction', 'status'], unique=False)
    op.create_index('uq_plan_transfer_tenant_id_case_id_active', 'plan_transfer', ['tenant_id', 'case_id'],
                    unique=True, postgresql_where=sa.text(_ACTIVE), sqlite_where=sa.text(_ACTIVE))
    enable_tenant_rls('plan_transfer')


def downgrade() -> None:
    disable_tenant_rls('plan_transfer')
    op.drop_index('uq_plan_transfer_tenant_id_case_id_active', table_name='plan_transfer')
    op.drop_index('ix_plan_transfer_tenant_id_direction_status', table_name='plan_transfer')
    op.drop_index(op.f('ix_plan_transfer_tenant_id'), table_name='plan_transfer')
    op.drop_table('plan_transfer')

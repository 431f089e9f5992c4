"""Specific circumstances of a child: CoP chapter 10 (issue 6)

Revision ID: 9c3e2a014d53
Revises: 8b2d1f903c42
Create Date: 2026-11-28 00:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from migrations.rls import disable_tenant_rls, enable_tenant_rls

revision = '9c3e2a014d53'
down_revision = '8b2d1f903c42'
branch_labels = None
depends_on = None

_KINDS = ('looked_after', 'child_in_need', 'child_protection', 'elective_home_education',
          'alternative_provision', 'youth_custody', 'service_child', 'out_of_area')


def upgrade() -> None:
    op.create_table('circumstance',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('child_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.Enum(*_KINDS, name='circumstancekind', native_enum=False, length=32), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('social_worker_name', sa.String(length=200), nullable=True),
    sa.Column('social_worker_email', sa.String(length=254), nullable=True),
    sa.Column('social_worker_phone', sa.String(length=40), nullable=True),
    sa.Column('virtual_school_head_name', sa.String(length=200), nullable=True),
    sa.Column('virtual_school_head_email', sa.String(length=254), nullable=True),
    sa.Column('designated_teacher_name', sa.String(length=200), nullable=True),
    sa.Column('designated_teacher_email', sa.String(length=254), nullable=True),
    sa.Column('care_placement', sa.String(length=200), nullable=True),
    sa.Column('responsible_la_code', sa.String(length=3), nullable=True),
    sa.Column('placement_la_code', sa.String(length=3), nullable=True),
    sa.Column('pep_url', sa.String(length=500), nullable=True),
    sa.Column('pep_reviewed_on', sa.Date(), nullable=True),
    sa.Column('care_plan_reviewed_on', sa.Date(), nullable=True),
    sa.Column('provision_type', sa.String(length=16), nullable=True),
    sa.Column('urn', sa.Integer(), nullable=True),
    sa.Column('provider', sa.String(length=200), nullable=True),
    sa.Column('parents_arrangements_suitable', sa.Boolean(), nullable=True),
    sa.Column('establishment', sa.String(length=200), nullable=True),
    sa.Column('yot_name', sa.String(length=200), nullable=True),
    sa.Column('yot_email', sa.String(length=254), nullable=True),
    sa.Column('yot_phone', sa.String(length=40), nullable=True),
    sa.Column('expected_release_on', sa.Date(), nullable=True),
    sa.Column('service_branch', sa.String(length=32), nullable=True),
    sa.Column('overseas', sa.Boolean(), nullable=True),
    sa.Column('overseas_school', sa.String(length=200), nullable=True),
    sa.Column('posting_location', sa.String(length=200), nullable=True),
    sa.Column('expected_posting_on', sa.Date(), nullable=True),
    sa.Column('notes', sa.String(length=1000), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'child_id'], ['child.tenant_id', 'child.id'],
                            name='fk_circumstance_tenant_id_child_id_child', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_circumstance_tenant_id_tenant'),
                            ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['urn'], ['institution.urn'], name=op.f('fk_circumstance_urn_institution')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_circumstance'))
    )
    op.create_index(op.f('ix_circumstance_tenant_id'), 'circumstance', ['tenant_id'], unique=False)
    op.create_index('ix_circumstance_tenant_id_child_id', 'circumstance', ['tenant_id', 'child_id', 'kind'],
                    unique=False)
    op.create_index('ix_circumstance_tenant_id_kind_ended_on', 'circumstance', ['tenant_id', 'kind', 'ended_on'],
                    unique=False)
    enable_tenant_rls('circumstance')


def downgrade() -> None:
    disable_tenant_rls('circumstance')
    op.drop_index('ix_circumstance_tenant_id_kind_ended_on', table_name='circumstance')
    op.drop_index('ix_circumstance_tenant_id_child_id', table_name='circumstance')
    op.drop_index(op.f('ix_circumstance_tenant_id'), table_name='circumstance')
    op.drop_table('circumstance')

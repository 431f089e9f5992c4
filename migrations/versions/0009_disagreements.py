"""Disagreements: mediation, appeals, tribunal orders, complaints, letters (issue 6)

Revision ID: 8b2d1f903c42
Revises: 7a1c0e8f2b31
Create Date: 2026-11-28 00:00:00
"""
from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401
from migrations.rls import disable_tenant_rls, enable_tenant_rls  # noqa: F401

revision = '8b2d1f903c42'
down_revision = '7a1c0e8f2b31'
branch_labels = None
depends_on = None


def upgrade() -> None:
    _upgrade_disagreements()  # H3's block: below
    _upgrade_letter_template()  # H4's block: see the end of this file


def downgrade() -> None:
    _downgrade_letter_template()  # H4's block: see the end of this file
    _downgrade_disagreements()  # H3's block: below


# ---------------------------------------------------------------------------------------
# Disagreements (core/disagreements/models.py, H3): the dispute, its steps, Tribunal orders,
# complaint stages. Every table is tenant-owned, with row-level security.

_DISAGREEMENT_TABLES = ("disagreement", "complaint_stage", "disagreement_step", "tribunal_order")


def _upgrade_disagreements() -> None:
    from sqlalchemy.dialects import postgresql

    op.create_table('disagreement',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('child_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('closed_reason', sa.String(length=500), nullable=True),
    sa.Column('owner_id', sa.Uuid(), nullable=True),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('decision_event_id', sa.Uuid(), nullable=True),
    sa.Column('decision', sa.String(length=20), nullable=True),
    sa.Column('decision_sent_on', sa.Date(), nullable=True),
    sa.Column('adviser_contacted_on', sa.Date(), nullable=True),
    sa.Column('wants_mediation', sa.Boolean(), nullable=True),
    sa.Column('includes_health', sa.Boolean(), nullable=False),
    sa.Column('health_bodies', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('health_notified_on', sa.Date(), nullable=True),
    sa.Column('provider', sa.String(length=200), nullable=True),
    sa.Column('mediator', sa.String(length=200), nullable=True),
    sa.Column('arranged_for', sa.Date(), nullable=True),
    sa.Column('not_arranged_notified_on', sa.Date(), nullable=True),
    sa.Column('held_on', sa.Date(), nullable=True),
    sa.Column('mediation_outcome', sa.String(length=20), nullable=True),
    sa.Column('certificate_issued_on', sa.Date(), nullable=True),
    sa.Column('certificate_kind', sa.String(length=20), nullable=True),
    sa.Column('agreement_made_on', sa.Date(), nullable=True),
    sa.Column('agreement_text', sa.Text(), nullable=True),
    sa.Column('agreement_appealable', sa.Boolean(), nullable=True),
    sa.Column('agreement_la_party', sa.Boolean(), nullable=True),
    sa.Column('agreement_due', sa.Date(), nullable=True),
    sa.Column('agreement_actioned_on', sa.Date(), nullable=True),
    sa.Column('tribunal_reference', sa.String(length=40), nullable=True),
    sa.Column('grounds', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('lodged_on', sa.Date(), nullable=True),
    sa.Column('registered_on', sa.Date(), nullable=True),
    sa.Column('late_permission', sa.Boolean(), nullable=True),
    sa.Column('response_due', sa.Date(), nullable=True),
    sa.Column('response_submitted_on', sa.Date(), nullable=True),
    sa.Column('conceded_on', sa.Date(), nullable=True),
    sa.Column('hearing_on', sa.Date(), nullable=True),
    sa.Column('decided_on', sa.Date(), nullable=True),
    sa.Column('appeal_outcome', sa.String(length=20), nullable=True),
    sa.Column('parties', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('referred_on', sa.Date(), nullable=True),
    sa.Column('meeting_on', sa.Date(), nullable=True),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.Column('aware_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'case_id'], ['ehc_case.tenant_id', 'ehc_case.id'], name='fk_disagreement_tenant_id_case_id_ehc_case', ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id', 'child_id'], ['child.tenant_id', 'child.id'], name='fk_disagreement_tenant_id_child_id_child', ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id', 'owner_id'], ['app_user.tenant_id', 'app_user.id'], name='fk_disagreement_tenant_id_owner_id_app_user'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_disagreement_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disagreement')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_disagreement_tenant_id_id'))
    )
    op.create_index(op.f('ix_disagreement_tenant_id'), 'disagreement', ['tenant_id'], unique=False)
    op.create_index('ix_disagreement_tenant_id_case_id', 'disagreement', ['tenant_id', 'case_id'], unique=False)
    op.create_index('ix_disagreement_tenant_id_status_kind', 'disagreement', ['tenant_id', 'status', 'kind'], unique=False)
    op.create_table('complaint_stage',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('disagreement_id', sa.Uuid(), nullable=False),
    sa.Column('stage', sa.String(length=24), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('reference', sa.String(length=60), nullable=True),
    sa.Column('target_due', sa.Date(), nullable=True),
    sa.Column('responded_on', sa.Date(), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('remedy', sa.Text(), nullable=True),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'disagreement_id'], ['disagreement.tenant_id', 'disagreement.id'], name='fk_complaint_stage_tenant_id_disagreement_id_disagreement', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_complaint_stage_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint_stage')),
    sa.UniqueConstraint('tenant_id', 'disagreement_id', 'stage', name=op.f('uq_complaint_stage_tenant_id_disagreement_id_stage'))
    )
    op.create_index(op.f('ix_complaint_stage_tenant_id'), 'complaint_stage', ['tenant_id'], unique=False)
    op.create_table('disagreement_step',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('disagreement_id', sa.Uuid(), nullable=False),
    sa.Column('type', sa.String(length=48), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('attributes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('case_event_id', sa.Uuid(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by', sa.String(length=120), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'disagreement_id'], ['disagreement.tenant_id', 'disagreement.id'], name='fk_disagreement_step_tenant_id_disagreement_id_disagreement', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_disagreement_step_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disagreement_step'))
    )
    op.create_index(op.f('ix_disagreement_step_tenant_id'), 'disagreement_step', ['tenant_id'], unique=False)
    op.create_index('ix_disagreement_step_tenant_id_disagreement_id', 'disagreement_step', ['tenant_id', 'disagreement_id'], unique=False)
    op.create_table('tribunal_order',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('disagreement_id', sa.Uuid(), nullable=False),
    sa.Column('order', sa.String(length=20), nullable=False),
    sa.Column('made_on', sa.Date(), nullable=False),
    sa.Column('requires', sa.Text(), nullable=True),
    sa.Column('case_event_id', sa.Uuid(), nullable=False),
    sa.Column('complied_on', sa.Date(), nullable=True),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'disagreement_id'], ['disagreement.tenant_id', 'disagreement.id'], name='fk_tribunal_order_tenant_id_disagreement_id_disagreement', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_tribunal_order_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tribunal_order'))
    )
    op.create_index(op.f('ix_tribunal_order_tenant_id'), 'tribunal_order', ['tenant_id'], unique=False)
    op.create_index('ix_tribunal_order_tenant_id_disagreement_id', 'tribunal_order', ['tenant_id', 'disagreement_id'], unique=False)
    # ### end Alembic commands ###
    for table in _DISAGREEMENT_TABLES:
        enable_tenant_rls(table)


def _downgrade_disagreements() -> None:
    for table in reversed(_DISAGREEMENT_TABLES):
        disable_tenant_rls(table)
    op.drop_index('ix_tribunal_order_tenant_id_disagreement_id', table_name='tribunal_order')
    op.drop_index(op.f('ix_tribunal_order_tenant_id'), table_name='tribunal_order')
    op.drop_table('tribunal_order')
    op.drop_index('ix_disagreement_step_tenant_id_disagreement_id', table_name='disagreement_step')
    op.drop_index(op.f('ix_disagreement_step_tenant_id'), table_name='disagreement_step')
    op.drop_table('disagreement_step')
    op.drop_index(op.f('ix_complaint_stage_tenant_id'), table_name='complaint_stage')
    op.drop_table('complaint_stage')
    op.drop_index('ix_disagreement_tenant_id_status_kind', table_name='disagreement')
    op.drop_index('ix_disagreement_tenant_id_case_id', table_name='disagreement')
    op.drop_index(op.f('ix_disagreement_tenant_id'), table_name='disagreement')
    op.drop_table('disagreement')


# ---------------------------------------------------------------------------------------
# Decision-letter templates (core/disagreements/letters.py, H4): one row per council.


def _upgrade_letter_template() -> None:
    from sqlalchemy.dialects import postgresql

    op.create_table('letter_template',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('texts', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('mediation_org', sa.String(length=200), nullable=False),
    sa.Column('mediation_phone', sa.String(length=40), nullable=False),
    sa.Column('mediation_email', sa.String(length=254), nullable=False),
    sa.Column('mediation_web', sa.String(length=300), nullable=False),
    sa.Column('ias_name', sa.String(length=200), nullable=False),
    sa.Column('ias_phone', sa.String(length=40), nullable=False),
    sa.Column('ias_email', sa.String(length=254), nullable=False),
    sa.Column('ias_web', sa.String(length=300), nullable=False),
    sa.Column('dr_name', sa.String(length=200), nullable=False),
    sa.Column('dr_phone', sa.String(length=40), nullable=False),
    sa.Column('dr_email', sa.String(length=254), nullable=False),
    sa.Column('dr_web', sa.String(length=300), nullable=False),
    sa.Column('signatory_name', sa.String(length=200), nullable=False),
    sa.Column('signatory_role', sa.String(length=200), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=120), nullable=True),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_letter_template_tenant_id_tenant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_letter_template'))
    )
    op.create_index(op.f('ix_letter_template_tenant_id'), 'letter_template', ['tenant_id'], unique=False)
    op.create_index('uq_letter_template_tenant_id', 'letter_template', ['tenant_id'], unique=True)
    enable_tenant_rls('letter_template')


def _downgrade_letter_template() -> None:
    disable_tenant_rls('letter_template')
    op.drop_index('uq_letter_template_tenant_id', table_name='letter_template')
    op.drop_index(op.f('ix_letter_template_tenant_id'), table_name='letter_template')
    op.drop_table('letter_template')

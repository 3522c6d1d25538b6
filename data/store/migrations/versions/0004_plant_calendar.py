"""plant calendar: time zone, shifts, planned stops; daily KPI rollups

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 19:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import data.store.sqltypes

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('plant_calendar',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('edited_at', data.store.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('stamp', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('shifts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('start', sa.String(length=5), nullable=False),
    sa.Column('end', sa.String(length=5), nullable=False),
    sa.Column('days', sa.String(length=27), nullable=False),
    sa.Column('breaks', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('planned_stops',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('machine_id', sa.Integer(), nullable=True),
    sa.Column('start_at', data.store.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('end_at', data.store.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['machine_id'], ['machines.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('planned_stops', schema=None) as batch_op:
        batch_op.create_index('ix_planned_stops_start', ['start_at'], unique=False)

    op.create_table('kpi_days',
    sa.Column('machine_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('day_lo', data.store.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('day_hi', data.store.sqltypes.UTCDateTime(), nullable=False),
    *(sa.Column(name, sa.Float(), nullable=False) for name in (
        'running_s', 'offline_s')),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('repairs', sa.Integer(), nullable=False),
    sa.Column('repair_s', sa.Float(), nullable=False),
    sa.Column('good', sa.Integer(), nullable=False),
    sa.Column('scrap', sa.Integer(), nullable=False),
    *(sa.Column(name, sa.Float(), nullable=False) for name in (
        'ideal_s', 'planned_s', 'running_planned_s', 'calendar_s', 'target_good')),
    sa.ForeignKeyConstraint(['machine_id'], ['machines.id'], ),
    sa.PrimaryKeyConstraint('machine_id', 'day')
    )
    with op.batch_alter_table('kpi_days', schema=None) as batch_op:
        batch_op.create_index('ix_kpi_days_day', ['day'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('kpi_days', schema=None) as batch_op:
        batch_op.drop_index('ix_kpi_days_day')
    op.drop_table('kpi_days')
    with op.batch_alter_table('planned_stops', schema=None) as batch_op:
        batch_op.drop_index('ix_planned_stops_start')
    op.drop_table('planned_stops')
    op.drop_table('shifts')
    op.drop_table('plant_calendar')

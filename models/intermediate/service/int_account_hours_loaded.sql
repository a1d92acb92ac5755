-- Incremental on biz_date, like the marts: a window build deletes and rebuilds
-- only the window's days, reading only those days of its inputs; a day's rows
-- depend only on that day's messages and the master data (docs/decisions.md).
-- One row per (shop_id, agent_id, biz_date, hour) with activity: a buyer
-- message of a reception, or a session of a received reception open in that
-- hour. 最大同时接待 max_concurrent_receptions = the largest number of
-- sessions open at one instant of the hour (docs/metrics.md §2.6); a session is
-- open from its first to its last message, both ends included, so at equal
-- times starts count before ends. The day's figure is the maximum of its hours.
-- Counted with a running sum over start (+1) / end (-1) events, no self-join:
-- the peak of an hour is the larger of the sessions carried into it (started
-- in an earlier hour, ending in this one or later) and the running count after
-- each event in it. Events are ordered by their instants and counted in the
-- local hour of their wall time; an hour the clock skips (spring forward)
-- carries no session, and an hour it repeats (fall back) holds both.
-- Table, not view: the hourly mart, the agent-day figures and their tests read
-- it, and it aggregates every buyer message and session.
with

int_sessions_bounded as (
    select * from {{ ref('int_sessions_bounded') }}
    where {{ kefu_in_build_window('biz_date') }}
),

int_messages_classified as (
    select * from {{ ref('int_messages_classified') }}
    where {{ kefu_in_build_window('biz_date') }}
),

int_receptions_filtered as (
    select * from {{ ref('int_receptions_filtered') }}
    where {{ kefu_in_build_window('biz_date') }}
),

int_shops_completed as (
    select * from {{ ref('int_shops_completed') }}
),

session_events as (
    select
        shop_id,
        agent_id,
        1 as open_delta,
        biz_date,
        started_at as event_at,
        started_instant as event_instant
    from int_sessions_bounded
    union all
    select
        shop_id,
        agent_id,
        -1 as open_delta,
        biz_date,
        ended_at as event_at,
        ended_instant as event_instant
    from int_sessions_bounded
),

running_open as (
    select
        shop_id,
        agent_id,
        hour(event_at) as hour,
        sum(open_delta) over (
            partition by shop_id, agent_id, biz_date
            order by event_instant asc, open_delta desc
            rows between unbounded preceding and current row
        ) as open_session_cnt,
        biz_date
    from session_events
),

event_peaks as (
    select
        shop_id,
        agent_id,
        hour,
        max(open_session_cnt) as open_session_cnt,
        biz_date
    from running_open
    group by shop_id, agent_id, biz_date, hour
),

carried_hours as (
    select
        int_sessions_bounded.shop_id,
        int_sessions_bounded.agent_id,
        {{ kefu_later_hours('int_sessions_bounded.started_at', 'int_sessions_bounded.ended_at') }} as hour,
        int_shops_completed.timezone,
        int_sessions_bounded.biz_date
    from int_sessions_bounded
    inner join int_shops_completed
        on int_sessions_bounded.shop_id = int_shops_completed.shop_id
    where hour(int_sessions_bounded.ended_at) > hour(int_sessions_bounded.started_at)
),

carried_sessions as (
    select
        shop_id,
        agent_id,
        hour,
        biz_date
    from carried_hours
    where {{ kefu_wall_time_exists(kefu_hour_start('biz_date', 'hour'), 'timezone') }}
),

carried_peaks as (
    select
        shop_id,
        agent_id,
        hour,
        count(*) as open_session_cnt,
        biz_date
    from carried_sessions
    group by shop_id, agent_id, biz_date, hour
),

peak_candidates as (
    select * from event_peaks
    union all
    select * from carried_peaks
),

hour_peaks as (
    select
        shop_id,
        agent_id,
        hour,
        max(open_session_cnt) as max_concurrent_receptions,
        biz_date
    from peak_candidates
    group by shop_id, agent_id, biz_date, hour
),

-- Counted per hour first, then joined to the reception's filter flag: the join
-- then takes one row per buyer and hour, not every buyer message (issue 13).
reception_message_hours as (
    select
        shop_id,
        agent_id,
        buyer_id,
        hour(sent_at) as hour,
        count(*) as buyer_msg_cnt,
        biz_date
    from int_messages_classified
    where is_buyer_message
    group by shop_id, agent_id, buyer_id, biz_date, hour(sent_at)
),

buyer_message_hours as (
    select
        reception_message_hours.shop_id,
        reception_message_hours.agent_id,
        reception_message_hours.buyer_id,
        reception_message_hours.hour,
        reception_message_hours.buyer_msg_cnt,
        int_receptions_filtered.is_filtered,
        reception_message_hours.biz_date
    from reception_message_hours
    inner join int_receptions_filtered
        on reception_message_hours.shop_id = int_receptions_filtered.shop_id
            and reception_message_hours.agent_id = int_receptions_filtered.agent_id
            and reception_message_hours.buyer_id = int_receptions_filtered.buyer_id
            and reception_message_hours.biz_date = int_receptions_filtered.biz_date
),

buyer_hours as (
    select
        shop_id,
        agent_id,
        hour,
        count(*) as consult_buyer_cnt,
        count(*) filter (where not is_filtered) as received_buyer_cnt,
        {{ kefu_count_sum('buyer_msg_cnt', 'not is_filtered') }} as buyer_msg_cnt,
        biz_date
    from buyer_message_hours
    group by shop_id, agent_id, biz_date, hour
),

loaded as (
    select
        coalesce(buyer_hours.shop_id, hour_peaks.shop_id) as shop_id,
        coalesce(buyer_hours.agent_id, hour_peaks.agent_id) as agent_id,
        cast(coalesce(buyer_hours.hour, hour_peaks.hour) as integer) as hour,
        coalesce(buyer_hours.consult_buyer_cnt, 0) as consult_buyer_cnt,
        coalesce(buyer_hours.received_buyer_cnt, 0) as received_buyer_cnt,
        coalesce(buyer_hours.buyer_msg_cnt, 0) as buyer_msg_cnt,
        cast(coalesce(hour_peaks.max_concurrent_receptions, 0) as integer) as max_concurrent_receptions,
        coalesce(buyer_hours.biz_date, hour_peaks.biz_date) as biz_date
    from buyer_hours
    full outer join hour_peaks
        on buyer_hours.shop_id = hour_peaks.shop_id
            and buyer_hours.agent_id = hour_peaks.agent_id
            and buyer_hours.biz_date = hour_peaks.biz_date
            and buyer_hours.hour = hour_peaks.hour
)

select * from loaded

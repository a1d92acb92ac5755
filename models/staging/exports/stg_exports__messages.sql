-- One row per chat message (shop_id, message_id); local wall times and biz_date.
-- Message text stays here and in raw: it is never copied into marts.
with

source as (
    select * from {{ source('exports', 'messages') }}
),

first_loaded as (
    {{ kefu_first_row('source', 'shop_id, message_id', '_file_id, _row_num') }}
),

renamed as (
    select
        shop_id,
        message_id,
        buyer_id,
        agent_id,
        sender_role,
        msg_type,
        content,
        sender_role in ('agent', 'assist') as is_valid_reply,
        cast(sent_at as date) as biz_date,
        sent_at
    from first_loaded
)

select * from renamed

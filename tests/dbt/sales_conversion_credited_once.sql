-- One success, one account (docs/metrics.md §4.7, v2), per received reception of
-- int_receptions_inquired: an account-level conversion is a buyer-level one
-- (an order converting the account is a following order); an assisted
-- reception is an inquiry with a following order, none converting its
-- account; the account's inquiries are the inquiries that are not assisted.
-- Returns the receptions that break this.
with

int_receptions_inquired as (
    select * from {{ ref('int_receptions_inquired') }}
    where {{ kefu_in_window('biz_date') }}
),

violations as (
    select * from int_receptions_inquired
    where (has_account_order and not has_order)
        or (is_account_paid_next_day and not is_paid_next_day)
        or (is_account_paid_final and not is_paid_final)
        or (is_account_paid_next_day and not is_account_paid_final)
        or (is_account_paid_final and not has_account_order)
        or (is_assisted and (not is_inquiry or not has_order or has_account_order))
        or is_account_inquiry <> (is_inquiry and not is_assisted)
)

select * from violations

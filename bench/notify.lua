-- wrk script: POST a realistic PayPal IPN (web_accept, Completed, 10.00 USD) per request.
-- Every request carries its own invoice and txn_id: "BENCH-<tag>-<thread>-<n>" and
-- "<tag><thread><n, 15 digits>", so each one is a new notification for its own payment
-- (bench.py creates those payments beforehand) and nothing is a duplicate.
-- Usage: wrk -s notify.lua URL -- <tag>     (tag: one letter per row)
-- done() prints one JSON line that bench.py reads.

local thread_count = 0

function setup(thread)
   thread_count = thread_count + 1
   thread:set("tid", thread_count)
end

local tag = "X"
local counter = 0
local head, middle, tail

function init(args)
   tag = args[1] or "X"
   head = "mc_gross=10.00&protection_eligibility=Eligible&address_status=confirmed"
      .. "&payer_id=Q7CZ2N9XK4B5L&tax=0.00&address_street=12+Harbour+Road"
      .. "&payment_date=09%3A41%3A07+Nov+27%2C+2026+PST&payment_status=Completed"
      .. "&charset=utf-8&address_zip=95131&first_name=Ada&mc_fee=0.59"
      .. "&address_country_code=US&address_name=Ada+Customer&notify_version=3.9"
      .. "&custom=&payer_status=verified&business=shop%40example.com"
      .. "&address_country=United+States&address_city=San+Jose&quantity=1"
      .. "&verify_sign=AqQ3cYzR8vN1wT5bHk2mXe7LpF0gJd9sUa4oCiVyBn6rEt.Wq3ZxPl8M"
      .. "&payer_email=ada.customer%40example.net&payment_type=instant"
      .. "&last_name=Customer&address_state=CA&receiver_email=shop%40example.com"
      .. "&payment_fee=0.59&shipping_discount=0.00&insurance_amount=0.00"
      .. "&receiver_id=7HJK2LMN3PQRS&txn_type=web_accept&item_name=Order"
      .. "&discount=0.00&mc_currency=USD&item_number=&residence_country=US"
      .. "&test_ipn=1&shipping_method=Default&transaction_subject=&payment_gross=10.00"
      .. "&shipping=0.00&ipn_track_id=5c2e8f1a9b7d3&invoice=BENCH-"
   middle = "&txn_id="
   tail = ""
end

function request()
   counter = counter + 1
   local body = head .. tag .. "-" .. tid .. "-" .. counter
      .. middle .. string.format("%s%d%015d", tag, tid, counter) .. tail
   return wrk.format("POST", nil, {["Content-Type"] = "application/x-www-form-urlencoded"}, body)
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      '\nBENCH_JSON {"requests": %d, "duration_us": %d, "status_errors": %d, '
      .. '"connect": %d, "read": %d, "write": %d, "timeout": %d, '
      .. '"p50_us": %d, "p90_us": %d, "p99_us": %d, "mean_us": %.1f, "max_us": %d}\n',
      summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency.mean, latency.max))
end

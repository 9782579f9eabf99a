#!/usr/bin/env bash
# Three wsbridge-serve instances on one Redis are one broker: publishers on
# every instance at once, and the subscribers on every instance receive all
# messages in one order with one seq series and one epoch; a type filter
# and a snapshot work across instances; a resume works on another instance.
. "$(dirname "$0")/../lib.sh"
. "$WSB_TESTS/cluster.sh"
N=600	# per publisher

start_redis || { fail "redis starts"; finish; }
for i in A B C; do
	start_instance $i || { fail "instance $i starts"; finish; }
done
for i in A B C; do
	check "instance $i: cluster ok" wait_cluster $i ok
done
check_eq "one epoch on every instance" "$(field_of A epoch) $(field_of B epoch)" \
	"$(field_of C epoch) $(field_of C epoch)"
check "/health counts 3 instances" poll 10 _field_is A cluster_instances 3

# A subscriber to everything and one to a single type on each instance.
for i in A B C; do
	url=$(eval "echo \$${i}_WS")
	"$WSB_BIN/wsbridge-sub" --url "$url" --count $((3 * N)) --timeout 60 >"$T/all.$i" 2>"$T/all.$i.err" &
	track $!; eval "SUB_$i=$!"
	"$WSB_BIN/wsbridge-sub" --url "$url" --type even --count $((3 * N / 2)) --timeout 60 \
		>"$T/even.$i" 2>"$T/even.$i.err" &
	track $!; eval "EVEN_$i=$!"
done
for i in A B C; do
	check "instance $i has its 2 subscribers" wait_subs $i 2
done

# Publishers on all three at once, interleaving in Redis.
for i in A B C; do
	url=$(eval "echo \$${i}_WS")
	seq $N | awk -v p=$i '{ printf "{\"type\":\"%s\",\"data\":{\"p\":\"%s\",\"n\":%d}}\n", ($1 % 2 ? "odd" : "even"), p, $1 }' |
		"$WSB_BIN/wsbridge-pub" --url "$url" --producer "p$i" 2>"$T/pub.$i.err" &
	track $!; eval "PUB_$i=$!"
done
for i in A B C; do
	wait_pid "$(eval "echo \$PUB_$i")" 60
	check_eq "publisher on $i exits 0" "$RC" 0
done
for i in A B C; do
	wait_pid "$(eval "echo \$SUB_$i")" 60
	check_eq "subscriber on $i gets all $((3 * N))" "$RC" 0
	wait_pid "$(eval "echo \$EVEN_$i")" 60
	check_eq "type=even subscriber on $i gets its $((3 * N / 2))" "$RC" 0
done

# One order: the same lines (seq, producer, pseq, data) on every instance.
check "A and B delivered the same stream" cmp "$T/all.A" "$T/all.B"
check "A and C delivered the same stream" cmp "$T/all.A" "$T/all.C"
jq -r .seq <"$T/all.A" >"$T/seqs"
seq "$(head -1 "$T/seqs")" "$(( $(head -1 "$T/seqs") + 3 * N - 1 ))" >"$T/want"
check "one seq series without holes" cmp "$T/seqs" "$T/want"
check_eq "every message once" "$(jq -r '"\(.data.p) \(.data.n)"' <"$T/all.A" | sort -u | wc -l)" $((3 * N))
for i in A B C; do
	jq -c 'select(.type == "even")' <"$T/all.A" >"$T/even.want"
	check "type filter on $i: the even ones, in the same order" cmp "$T/even.$i" "$T/even.want"
done

# A snapshot on C holds the latest of each type, wherever it was published.
"$WSB_BIN/wsbridge-sub" --url "$C_WS" --snapshot --count 2 --timeout 10 >"$T/snap" 2>"$T/snap.err"
check_eq "snapshot on C: the last odd and even of the stream" "$(jq -c '[.type, .seq]' <"$T/snap" | sort | tr '\n' ' ')" \
	"$(jq -c '[.type, .seq]' <"$T/all.A" | awk -F, '{ last[$1] = $0 } END { for (t in last) print last[t] }' | sort | tr '\n' ' ')"

# Resume on B from a seq seen on A: the rest, the same bytes.
mid=$(sed -n "$N p" "$T/seqs")
epoch=$(field_of A epoch)
"$WSB_BIN/wsbridge-sub" --url "$B_WS" --since "$mid" --epoch "$epoch" --count $((2 * N)) --timeout 10 \
	>"$T/resumed" 2>"$T/resumed.err"
check_eq "resume on B after a seq of A's stream" "$?" 0
check "the resumed part is A's stream after it" cmp "$T/resumed" <(tail -n $((2 * N)) "$T/all.A")

for i in A B C; do
	stop "$(eval "echo \$${i}_PID")"
	check_eq "instance $i exits 0 on SIGTERM" "$RC" 0
done
finish

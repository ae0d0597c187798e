package ui

import (
	"fmt"
	"strings"
)

// msg names one text of the catalogue.
type msg string

// Languages the catalogue has.
const (
	langZH = "zh"
	langEN = "en"
)

// The catalogue's keys. Retcode explanations are looked up as
// "decline.<retcode>", order states as "state.<state>", bill matches as
// "bill.<match>" and settlement states as "settlement.<state>"; they are
// not listed here.
const (
	mIdleTitle     msg = "idle.title"
	mIdleHint      msg = "idle.hint"
	mLookingUp     msg = "lookup.busy"
	mNotFound      msg = "lookup.not_found"
	mUnreachable   msg = "lookup.unreachable"
	mLookupFailed  msg = "lookup.failed"
	mUnmapped      msg = "lookup.unmapped"
	mOnline        msg = "status.online"
	mOffline       msg = "status.offline"
	mUnfinished    msg = "status.unfinished"
	mTerm          msg = "status.term"
	mDeviceProblem msg = "status.device_problem"
	mLangToggle    msg = "btn.lang"
	mService       msg = "btn.service"
	mCancel        msg = "btn.cancel"
	mOK            msg = "btn.ok"
	mDone          msg = "btn.done"
	mBack          msg = "btn.back"
	mDel           msg = "btn.del"
	mClear         msg = "btn.clear"
	mConfirm       msg = "btn.confirm"
	mOtherAmount   msg = "btn.other_amount"
	mCardholder    msg = "card.holder"
	mAccount       msg = "card.account"
	mBalance       msg = "card.balance"
	mCardOffline   msg = "card.offline"
	mChoose        msg = "card.choose"
	mRefusedLost   msg = "card.lost"
	mRefusedFrozen msg = "card.frozen"
	mRefusedExpiry msg = "card.expired"
	mAmountTitle   msg = "amount.title"
	mAmountInvalid msg = "amount.invalid"
	mConfirmTitle  msg = "confirm.title"
	mConfirmCard   msg = "confirm.card"
	mPaying        msg = "paying"
	mPaid          msg = "result.paid"
	mOutID         msg = "result.outid"
	mNewBalance    msg = "result.new_balance"
	mDeclined      msg = "result.declined"
	mRecorded      msg = "result.offline"
	mRecordedHint  msg = "result.offline_hint"
	mUnknown       msg = "result.unknown"
	mUnknownHint   msg = "result.unknown_hint"
	mOfflineRefuse msg = "result.offline_refused"
	mNotCharged    msg = "result.not_charged"
	mNoPlatform    msg = "result.no_platform"
	mSystemRefused msg = "decline.system"
	mDeclineOther  msg = "decline.other"
	mCanteenTitle  msg = "canteen.title"
	mArm           msg = "canteen.arm"
	mArmed         msg = "canteen.armed"
	mDisarm        msg = "canteen.disarm"
	mNextStudent   msg = "canteen.next"
	mNotArmed      msg = "canteen.not_armed"
	mPwdTitle      msg = "password.title"
	mPwdWrong      msg = "password.wrong"
	mPwdLocked     msg = "password.locked"
	mPwdCentre     msg = "password.centre"
	mPINTitle      msg = "pin.title"
	mPINWrong      msg = "pin.wrong"
	mPINLocked     msg = "pin.locked"
	// mPINDot stands for one typed digit: in the catalogue so that the
	// font checks cover it.
	mPINDot        msg = "pin.dot"
	mDiagTitle     msg = "diag.title"
	mDiagOnline    msg = "diag.online"
	mDiagOffline   msg = "diag.offline"
	mDiagUnfin     msg = "diag.unfinished"
	mReconcile     msg = "diag.reconcile"
	mReconciled    msg = "diag.reconciled"
	mFailed        msg = "diag.failed"
	mDevices       msg = "diag.devices"
	mNoDevices     msg = "diag.no_devices"
	mDeviceUp      msg = "diag.device_up"
	mDeviceDown    msg = "diag.device_down"
	mModeLabel     msg = "diag.mode"
	mModeKiosk     msg = "diag.mode_kiosk"
	mModeCanteen   msg = "diag.mode_canteen"
	mLastScan      msg = "diag.last_scan"
	mNoScan        msg = "diag.no_scan"
	mWorking       msg = "diag.working"
	mRefresh       msg = "diag.refresh"
	mDiagToken     msg = "diag.token"
	mDiagNoToken   msg = "diag.no_token"
	mDiagTokenErr  msg = "diag.token_error"
	mDiagClock     msg = "diag.clock"
	mDiagClockBad  msg = "diag.clock_bad"
	mDiagNoClock   msg = "diag.no_clock"
	mDiagCounting  msg = "diag.counting"
	mDiagCounts    msg = "diag.counts"
	mDiagNoOrders  msg = "diag.no_orders"
	mDiagToday     msg = "diag.today"
	mTodayFigure   msg = "diag.today_figure"
	mTodayCharged  msg = "diag.today_charged"
	mTodayRefunds  msg = "diag.today_refunds"
	mTodayPending  msg = "diag.today_unconfirmed"
	mTodayHint     msg = "diag.today_unconfirmed_hint"
	mTodayDeclined msg = "diag.today_declined"
	mTodayReview   msg = "diag.today_review"
	mTodayNet      msg = "diag.today_net"
	mDiagSettle    msg = "diag.settlement"
	mSettleDay     msg = "diag.settlement_day"
	mSettleDone    msg = "diag.settlement_done"
	mSettleFailed  msg = "diag.settlement_failed"
	mMismatched    msg = "diag.settlement_mismatched"
	mSettleDiff    msg = "diag.settlement_diff"
	mListSep       msg = "list.sep"
	mListCount     msg = "list.count"
	mDiagOfflineOn msg = "diag.offline_on"
	mDiagOfflineNo msg = "diag.offline_off"
	mDiagExposure  msg = "diag.exposure"
	mDiagPwdNever  msg = "diag.password_never"
	mDiagPwdAbove  msg = "diag.password_above"
	mDiagPwdAlways msg = "diag.password_always"
	mDiagPwdLocked msg = "diag.password_locked"
	mDiagVersion   msg = "diag.version"
	mDiagLogs      msg = "diag.logs"
)

// catalogue returns the texts of one language. It is built on each call
// (a language switch is rare) so that no table is shared or mutable.
func catalogue(lang string) map[msg]string {
	if lang == langEN {
		return map[msg]string{
			mIdleTitle:                   "Scan your campus card or QR code",
			mIdleHint:                    "Hold the card to the reader, or show the payment code to the scanner",
			mLookingUp:                   "Looking up your card…",
			mNotFound:                    "This card is not recognised",
			mUnreachable:                 "The platform cannot be reached and this card is not known offline",
			mLookupFailed:                "The card could not be looked up: %s",
			mUnmapped:                    "This scan is not a card this terminal accepts",
			mOnline:                      "Online",
			mOffline:                     "Offline",
			mUnfinished:                  "Unconfirmed: %d",
			mTerm:                        "Terminal %s",
			mDeviceProblem:               "Device problem",
			mLangToggle:                  "中文",
			mService:                     "Service",
			mCancel:                      "Cancel",
			mOK:                          "OK",
			mDone:                        "Done",
			mBack:                        "Back",
			mDel:                         "Del",
			mClear:                       "Clear",
			mConfirm:                     "Pay now",
			mOtherAmount:                 "Other amount",
			mCardholder:                  "Cardholder: %s",
			mAccount:                     "Account: %s",
			mBalance:                     "Balance: %s",
			mCardOffline:                 "Offline: balance as last seen online",
			mChoose:                      "Choose an item or enter an amount",
			mRefusedLost:                 "This card is reported lost and cannot pay",
			mRefusedFrozen:               "This account is frozen and cannot pay",
			mRefusedExpiry:               "This card has expired and cannot pay",
			mAmountTitle:                 "Enter the amount",
			mAmountInvalid:               "Enter an amount above zero, at most two decimals",
			mConfirmTitle:                "Pay %s?",
			mConfirmCard:                 "From the card of %s",
			mPaying:                      "Paying, please wait…",
			mPaid:                        "Paid",
			mOutID:                       "Transaction: %s",
			mNewBalance:                  "Balance now: %s",
			mDeclined:                    "Declined: %s",
			mRecorded:                    "Recorded offline, will be confirmed",
			mRecordedHint:                "The payment is sent when the platform is back",
			mUnknown:                     "Will be confirmed",
			mUnknownHint:                 "Do not pay again: the terminal confirms this payment itself",
			mOfflineRefuse:               "Cannot accept offline: %s",
			mNotCharged:                  "Not charged: %s",
			mNoPlatform:                  "the platform cannot be reached",
			mSystemRefused:               "the platform refused the request (%s)",
			mDeclineOther:                "refused by the platform (code %s)",
			"offline.off":                "offline payments are off on this terminal",
			"offline.amount":             "the amount is above the offline limit per payment",
			"offline.store":              "this terminal cannot read its records",
			"offline.unseen":             "this card has not been used online on this terminal",
			"offline.stale":              "this card has not been used online recently",
			"offline.lost":               "this card is reported lost",
			"offline.frozen":             "this account is frozen",
			"offline.count":              "too many payments are waiting to be sent",
			"offline.total":              "too much is waiting to be sent",
			"offline.card_day":           "this card's offline limit for today is reached",
			"offline.password_required":  "this amount needs your card's password, which can only be checked online",
			mPwdTitle:                    "To pay %s, enter your card's password",
			mPwdWrong:                    "Wrong password (tries left: %d)",
			mPwdLocked:                   "Too many wrong passwords: this card cannot pay here until %s",
			mPwdCentre:                   "Please go to the card centre",
			"offline.balance":            "the balance last seen is too low",
			"decline.60003":              "account not found",
			"decline.60007":              "the card is reported lost",
			"decline.60010":              "the balance is too low",
			"decline.60013":              "the account is frozen",
			"decline.60045":              "duplicate order number",
			"decline.60070":              "duplicate order number",
			mCanteenTitle:                "Key an amount or pick a price",
			mArm:                         "Charge this amount",
			mArmed:                       "Tap the card: %s",
			mDisarm:                      "Change amount",
			mNextStudent:                 "Ready for the next student",
			mNotArmed:                    "Set an amount first",
			mPINTitle:                    "Enter the service PIN",
			mPINWrong:                    "Wrong PIN (tries left before a lockout: %d)",
			mPINLocked:                   "Too many wrong PINs: locked until %s",
			mDiagTitle:                   "Diagnostics",
			mDiagOnline:                  "Platform: online since %s",
			mDiagOffline:                 "Platform: offline since %s",
			mDiagUnfin:                   "Unfinished orders: %d",
			mReconcile:                   "Reconcile now",
			mReconciled:                  "Reconciled: %d orders settled",
			mFailed:                      "Failed: %s",
			mDevices:                     "Devices",
			mNoDevices:                   "No device information",
			mDeviceUp:                    "%s: connected, %d scans, %d dropped",
			mDeviceDown:                  "%s: not connected %s",
			mModeLabel:                   "Mode",
			mModeKiosk:                   "Self-service",
			mModeCanteen:                 "Canteen",
			mLastScan:                    "Last scan: %s",
			mNoScan:                      "Last scan: none",
			mWorking:                     "Working…",
			mRefresh:                     "Refresh",
			mDiagToken:                   "Token: expires %s, %s left",
			mDiagNoToken:                 "Token: none",
			mDiagTokenErr:                "Token: %s",
			mDiagClock:                   "Clock offset to the platform's web server: %s (measured %s)",
			mDiagClockBad:                "The clock is more than 3 minutes off: set it (the platform refuses over 6)",
			mDiagNoClock:                 "Clock offset: no platform reply yet",
			mDiagCounting:                "Counting orders…",
			mDiagCounts:                  "Orders by state: %s",
			mDiagNoOrders:                "Orders by state: none",
			mDiagToday:                   "Today so far (%s)",
			mTodayFigure:                 "%s: %d orders, %s",
			mTodayCharged:                "Charged",
			mTodayRefunds:                "Refunds paid out",
			mTodayPending:                "Still unconfirmed",
			mTodayHint:                   "%s (the terminal confirms them itself)",
			mTodayDeclined:               "Declined",
			mTodayReview:                 "Needs review",
			mTodayNet:                    "Net taken: %s",
			mDiagSettle:                  "Daily settlement, last %d days",
			mSettleDay:                   "%s: %s",
			mSettleDone:                  "%s: %s; %s; net: journal %s, bill %s",
			mSettleFailed:                "%s: %s (attempt %d): %s",
			mMismatched:                  "mismatched",
			mSettleDiff:                  "Difference, journal less bill: %s",
			mListSep:                     ", ",
			mListCount:                   "%s %d",
			mDiagOfflineOn:               "Offline payments: on; %s a payment, %s in all, %d orders, %s a card a day, card seen within %s",
			mDiagPwdNever:                "Card password: never asked",
			mDiagPwdAbove:                "Card password: asked above %s; %d wrong lock a card here for %s",
			mDiagPwdAlways:               "Card password: asked for every payment; %d wrong lock a card here for %s",
			mDiagPwdLocked:               "Cards locked by wrong passwords now: %d",
			mDiagOfflineNo:               "Offline payments: off",
			mDiagExposure:                "Accepted offline, not yet confirmed: %d orders, %s",
			mDiagVersion:                 "Version: %s",
			mDiagLogs:                    "Last log lines",
			"state.sending":              "sending",
			"state.paid":                 "paid",
			"state.declined":             "declined",
			"state.unknown":              "outcome unknown",
			"state.offline_accepted":     "accepted offline",
			"state.voided":               "voided",
			"state.orphan_charged":       "charged unseen, refunding",
			"state.orphan_refunded":      "unseen charge refunded",
			"state.refunded":             "refunded",
			"state.partially_refunded":   "partly refunded",
			"state.failed_after_offline": "failed after offline",
			"state.needs_review":         "needs review",
			"bill.matched":               "matched",
			"bill.platform_only":         "only on the platform",
			"bill.journal_only":          "only in the journal",
			"bill.amount_mismatch":       "amount differs",
			"bill.status_mismatch":       "status differs",
			"settlement.done":            "settled",
			"settlement.failed":          "failed",
			"settlement.pending":         "pending",
		}
	}
	return map[msg]string{
		mIdleTitle:                   "请刷校园卡或扫码",
		mIdleHint:                    "将校园卡靠近读卡器，或向扫码器出示付款码",
		mLookingUp:                   "正在查询，请稍候…",
		mNotFound:                    "无法识别此卡",
		mUnreachable:                 "无法连接平台，且本机没有此卡的离线记录",
		mLookupFailed:                "查询失败：%s",
		mUnmapped:                    "本机不支持此卡或此码",
		mOnline:                      "在线",
		mOffline:                     "离线",
		mUnfinished:                  "待确认：%d",
		mTerm:                        "终端 %s",
		mDeviceProblem:               "设备异常",
		mLangToggle:                  "English",
		mService:                     "维护",
		mCancel:                      "取消",
		mOK:                          "确定",
		mDone:                        "完成",
		mBack:                        "返回",
		mDel:                         "删除",
		mClear:                       "清除",
		mConfirm:                     "确认支付",
		mOtherAmount:                 "输入金额",
		mCardholder:                  "持卡人：%s",
		mAccount:                     "账号：%s",
		mBalance:                     "余额：%s",
		mCardOffline:                 "离线：余额为上次联网时的记录",
		mChoose:                      "请选择商品或输入金额",
		mRefusedLost:                 "此卡已挂失，不能支付",
		mRefusedFrozen:               "此账户已冻结，不能支付",
		mRefusedExpiry:               "此卡已过期，不能支付",
		mAmountTitle:                 "请输入金额",
		mAmountInvalid:               "请输入大于零、最多两位小数的金额",
		mConfirmTitle:                "支付 %s？",
		mConfirmCard:                 "从 %s 的卡中扣款",
		mPaying:                      "正在支付，请稍候…",
		mPaid:                        "支付成功",
		mOutID:                       "交易号：%s",
		mNewBalance:                  "当前余额：%s",
		mDeclined:                    "支付失败：%s",
		mRecorded:                    "已离线记录，稍后确认",
		mRecordedHint:                "平台恢复后自动上传",
		mUnknown:                     "结果待确认",
		mUnknownHint:                 "请勿重复支付，本机会自动确认",
		mOfflineRefuse:               "无法离线收款：%s",
		mNotCharged:                  "未扣款：%s",
		mNoPlatform:                  "无法连接平台",
		mSystemRefused:               "平台拒绝了请求（%s）",
		mDeclineOther:                "平台拒绝（代码 %s）",
		"offline.off":                "本机未开启离线支付",
		"offline.amount":             "离线单笔金额过大",
		"offline.store":              "本机记录无法读取",
		"offline.unseen":             "此卡未在本机联网查询过",
		"offline.stale":              "此卡近期未联网查询",
		"offline.lost":               "此卡已挂失",
		"offline.frozen":             "此账户已冻结",
		"offline.count":              "待上传的离线笔数过多",
		"offline.total":              "待上传的离线金额过多",
		"offline.card_day":           "此卡当日离线金额过多",
		"offline.password_required":  "此金额需验证卡密码，须联网验证",
		mPwdTitle:                    "支付 %s，请输入校园卡密码",
		mPwdWrong:                    "密码错误（还可尝试 %d 次）",
		mPwdLocked:                   "密码错误次数过多，此卡在本机暂停支付至 %s",
		mPwdCentre:                   "请到校园卡服务中心处理",
		"offline.balance":            "上次查询的余额不足",
		"decline.60003":              "账户不存在",
		"decline.60007":              "此卡已挂失",
		"decline.60010":              "余额不足",
		"decline.60013":              "账户已冻结",
		"decline.60045":              "订单号重复",
		"decline.60070":              "订单号重复",
		mCanteenTitle:                "请输入金额或选择价格",
		mArm:                         "按此金额收款",
		mArmed:                       "请刷卡：%s",
		mDisarm:                      "更改金额",
		mNextStudent:                 "请下一位刷卡",
		mNotArmed:                    "请先设定金额",
		mPINTitle:                    "请输入维护密码",
		mPINWrong:                    "密码错误（还可尝试 %d 次）",
		mPINLocked:                   "密码错误次数过多，锁定至 %s",
		mDiagTitle:                   "维护",
		mDiagOnline:                  "平台：在线，自 %s",
		mDiagOffline:                 "平台：离线，自 %s",
		mDiagUnfin:                   "未完成订单：%d",
		mReconcile:                   "立即对账",
		mReconciled:                  "对账完成：处理 %d 笔",
		mFailed:                      "失败：%s",
		mDevices:                     "设备",
		mNoDevices:                   "无设备信息",
		mDeviceUp:                    "%s：已连接，扫描 %d 次，丢弃 %d 次",
		mDeviceDown:                  "%s：未连接 %s",
		mModeLabel:                   "模式",
		mModeKiosk:                   "自助",
		mModeCanteen:                 "食堂",
		mLastScan:                    "最近扫描：%s",
		mNoScan:                      "最近扫描：无",
		mWorking:                     "处理中…",
		mRefresh:                     "刷新",
		mDiagToken:                   "令牌：%s 到期，剩余 %s",
		mDiagNoToken:                 "令牌：无",
		mDiagTokenErr:                "令牌：%s",
		mDiagClock:                   "与平台服务器的时差：%s（%s 测得）",
		mDiagClockBad:                "时钟偏差超过 3 分钟，请校时（超过 6 分钟平台拒绝）",
		mDiagNoClock:                 "时差：尚无平台回复",
		mDiagCounting:                "正在统计订单…",
		mDiagCounts:                  "各状态订单：%s",
		mDiagNoOrders:                "各状态订单：无",
		mDiagToday:                   "今日累计（%s）",
		mTodayFigure:                 "%s：%d 笔，%s",
		mTodayCharged:                "已收款",
		mTodayRefunds:                "已退款",
		mTodayPending:                "待确认",
		mTodayHint:                   "%s（本机会自动确认）",
		mTodayDeclined:               "已拒绝",
		mTodayReview:                 "需人工核查",
		mTodayNet:                    "净收款：%s",
		mDiagSettle:                  "日结（最近 %d 天）",
		mSettleDay:                   "%s：%s",
		mSettleDone:                  "%s：%s；%s；净额：本机 %s，账单 %s",
		mSettleFailed:                "%s：%s（第 %d 次）：%s",
		mMismatched:                  "不符",
		mSettleDiff:                  "差额（本机减账单）：%s",
		mListSep:                     "，",
		mListCount:                   "%s%d",
		mDiagOfflineOn:               "离线支付：开启；单笔 %s，总额 %s，%d 笔，每卡每日 %s，卡须在 %s 内在线查询过",
		mDiagPwdNever:                "卡密码：不验证",
		mDiagPwdAbove:                "卡密码：超过 %s 须验证；错误 %d 次本机暂停此卡 %s",
		mDiagPwdAlways:               "卡密码：每笔须验证；错误 %d 次本机暂停此卡 %s",
		mDiagPwdLocked:               "因密码错误暂停的卡：%d 张",
		mDiagOfflineNo:               "离线支付：关闭",
		mDiagExposure:                "离线待确认：%d 笔，%s",
		mDiagVersion:                 "版本：%s",
		mDiagLogs:                    "最近日志",
		"state.sending":              "发送中",
		"state.paid":                 "已支付",
		"state.declined":             "已拒绝",
		"state.unknown":              "结果未知",
		"state.offline_accepted":     "离线已受理",
		"state.voided":               "已作废",
		"state.orphan_charged":       "未告知已扣款，退款中",
		"state.orphan_refunded":      "未告知扣款已退回",
		"state.refunded":             "已退款",
		"state.partially_refunded":   "部分退款",
		"state.failed_after_offline": "离线受理后失败",
		"state.needs_review":         "需人工核查",
		"bill.matched":               "一致",
		"bill.platform_only":         "仅平台有",
		"bill.journal_only":          "仅本机有",
		"bill.amount_mismatch":       "金额不符",
		"bill.status_mismatch":       "状态不符",
		"settlement.done":            "已结算",
		"settlement.failed":          "失败",
		"settlement.pending":         "待结算",
	}
}

// texts is one language's catalogue, with formatting.
type texts struct {
	lang string
	m    map[msg]string
}

func newTexts(lang string) texts { return texts{lang: lang, m: catalogue(lang)} }

// t returns the text for key, formatted with args; a missing key shows
// itself, which a test catches, rather than an empty label.
func (x texts) t(key msg, args ...any) string {
	s, ok := x.m[key]
	if !ok {
		s = string(key)
	}
	if len(args) == 0 {
		return s
	}
	return fmt.Sprintf(s, args...)
}

// named returns the catalogue's word for an identifier (an order state, a
// bill match) under prefix, or the identifier itself when there is none:
// a technician can still look that up, which a blank could not be.
func (x texts) named(prefix, id string) string {
	if key := msg(prefix + "." + id); x.has(key) {
		return x.m[key]
	}
	return id
}

// list joins items (each a list.count, say) with the language's
// separator. The Chinese ones have no space: Fyne wraps a label at a
// space, else anywhere in a run too long for its row, which suits Chinese,
// where "仅平台有 0" would wrap between the word and its count.
func (x texts) list(items []string) string { return strings.Join(items, x.t(mListSep)) }

// has reports whether the catalogue has key.
func (x texts) has(key msg) bool {
	_, ok := x.m[key]
	return ok
}

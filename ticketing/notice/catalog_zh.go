package notice

import "github.com/nocagent/nocagent/ticketing"

// 简体中文。客户通知用平实的语言说明：影响范围、开始时间、处理进展、
// 下次更新时间；不出现规则名和内部备注。工程师和经理的通知偏技术。

const (
	zhAffected    = `{{if .Upstream}}由于上游网络故障，贵方 {{.Count}} 台设备无法访问{{else}}{{if .Site}}{{.Site}}的{{end}}{{.Device}}{{if .Impacted}}，以及其后方的 {{.Impacted}} 台设备{{end}}{{end}}`
	zhAffectedAll = `{{if .Upstream}}贵方 {{.Total}} 台设备（因上游网络故障中断）{{else}}{{if .Site}}{{.Site}}的{{end}}{{.Device}}{{if gt .Total 1}}，以及其后方的 {{sub .Total 1}} 台设备{{end}}{{end}}`
	zhProblem     = `{{if not .Upstream}}{{.Title}}{{end}}`
	zhCount       = `{{if gt .Count 1}}{{.Count}} 台（见下方列表）{{end}}`
	zhDoing       = `{{if .Assignee}}工程师 {{.Assignee}} 正在排查{{else}}我们的工程师已收到告警，正在排查{{end}}（优先级 {{.Priority}}）。`
	zhNext        = `{{if .NextUpdate}}{{.NextUpdate}} 之前；如有进展将及时通知。{{end}}`
	zhAsk         = `如有疑问，请回复本邮件并注明工单号 {{.ID}}。`
	zhStaffSub    = `[{{.Priority}}] {{.ID}} `
)

var zhUpdateFacts = [][2]string{
	{"影响范围", zhAffected},
	{"受影响设备", zhCount},
	{"开始时间", `{{.Since}}`},
	{"处理进展", zhDoing},
	{"下次更新", zhNext},
}

var catalogZH = compile("zh-CN", map[string]src{
	"customer/opened": {
		Subject: `【故障通知】{{if .Upstream}}贵方 {{.Count}} 台设备受上游网络故障影响{{else}}{{if .Site}}{{.Site}} {{end}}{{.Device}} 发生故障{{end}}（{{.ID}}）`,
		Heading: `我们正在处理一处影响贵方网络的故障`,
		Body:    []string{`我们的监控系统于 {{.Since}} 发现贵方网络出现故障，工程师已在处理。以下是目前掌握的情况。`},
		Facts: [][2]string{
			{"影响范围", zhAffected},
			{"故障现象", zhProblem},
			{"受影响设备", zhCount},
			{"开始时间", `{{.Since}}`},
			{"处理进展", zhDoing},
			{"下次更新", zhNext},
		},
		Outro: []string{`您无需采取任何操作。` + zhAsk},
	},
	"customer/impact_added": {
		Subject: `【故障更新】受影响的设备增加（{{.ID}}）`,
		Heading: `故障处理进展更新`,
		Body:    []string{`此前通知的故障现已影响贵方更多设备，工程师仍在全力处理。`},
		Facts:   zhUpdateFacts,
		Outro:   []string{zhAsk},
	},
	"customer/priority_raised": {
		Subject: `【故障更新】故障优先级已提升至 {{.Priority}}（{{.ID}}）`,
		Heading: `故障处理进展更新`,
		Body:    []string{`经进一步确认，该故障比最初判断的更为严重。我们已将优先级提升至 {{.Priority}}，并投入更多技术力量处理。`},
		Facts:   zhUpdateFacts,
		Outro:   []string{zhAsk},
	},
	"customer/reopened": {
		Subject: `【故障更新】故障再次出现（{{.ID}}）`,
		Heading: `故障再次出现`,
		Body:    []string{`此前通知已解决的故障再次出现。我们已重新开启工单，工程师正在重新处理。`},
		Facts:   zhUpdateFacts,
		Outro:   []string{zhAsk},
	},
	"customer/resolved": {
		Subject: `【故障解决】{{if .Upstream}}贵方设备已恢复访问{{else}}{{if .Site}}{{.Site}} {{end}}{{.Device}} 已恢复正常{{end}}（{{.ID}}）`,
		Heading: `故障已解决`,
		Body:    []string{`于 {{.Since}} 开始的故障已于 {{.ResolvedAt}} 解决，服务应已恢复正常。`},
		Facts: [][2]string{
			{"影响范围", zhAffectedAll},
			{"故障时长", `{{.Duration}}`},
			{"故障原因", `{{if .Cause}}{{.Cause}}{{else}}故障已自行恢复。我们正在分析原因，如需贵方配合将另行通知。{{end}}`},
			{"解决方案", `{{.Solution}}`},
		},
		Link:  `请点击以下链接确认修复结果：`,
		Outro: []string{`我们将继续监控贵方网络，确保故障不再复发。如仍有问题，请回复本邮件并注明工单号 {{.ID}}；如无问题，{{if .ConfirmLink}}请通过上方链接予以确认{{else}}请在收到确认请求时予以确认{{end}}。`},
	},
	"customer/service_mode": {
		Subject: `{{if eq .Mode "on_site"}}【上门服务】{{if .Upstream}}工程师将上门处理影响贵方设备的故障{{else}}工程师将{{if .Appointment}}于 {{.Appointment}} {{end}}上门{{if .Site}}（{{.Site}}）{{end}}{{end}}{{else}}【故障更新】处理方式更新{{end}}（{{.ID}}）`,
		Heading: `{{if eq .Mode "on_site"}}工程师将上门服务{{else}}故障处理方式{{end}}`,
		Body: []string{`{{if .Upstream}}{{if eq .Mode "on_site"}}贵方设备上游网络的故障需要工程师到现场处理{{if .Appointment}}，预约时间为 {{.Appointment}}{{end}}。{{else}}我们的工程师正在远程处理贵方设备上游网络的故障。{{end}}` +
			`{{else if eq .Mode "on_site"}}为排除故障，工程师将{{if .Appointment}}于 {{.Appointment}} {{end}}前往{{or .Site "贵方现场"}}。请安排人员接待，并协助工程师接触 {{.Device}}。` +
			`{{else if eq .Mode "remote_guidance"}}工程师将联系贵方技术人员，远程逐步指导其修复 {{.Device}}。请安排能够接触该设备的人员保持联系。` +
			`{{else if eq .Mode "remote_login"}}工程师将远程登录 {{.Device}} 进行修复，您无需采取任何操作。` +
			`{{else}}我们的工程师调整了故障处理方式。{{end}}`},
		Facts: [][2]string{
			{"影响范围", zhAffected},
			{"上门时间", `{{if eq .Mode "on_site"}}{{.Appointment}}{{end}}`},
			{"工程师", `{{.Assignee}}`},
		},
		Outro: []string{`{{if and (eq .Mode "on_site") (not .Upstream)}}如该时间不便，请回复本邮件并注明工单号 {{.ID}}，我们将另行安排。{{else}}` + zhAsk + `{{end}}`},
	},
	"customer/arrived": {
		Subject: `【上门服务】工程师已到达现场{{if and .Site (not .Upstream)}}（{{.Site}}）{{end}}（{{.ID}}）`,
		Heading: `工程师已到达现场`,
		Body:    []string{`{{if .Upstream}}我们的工程师已于 {{.ArrivedAt}} 到达现场，处理贵方设备上游网络的故障。{{else}}我们的工程师{{if .ArrivedBy}} {{.ArrivedBy}} {{end}}已于 {{.ArrivedAt}} 到达{{or .Site "现场"}}，正在处理 {{.Device}}。{{end}}`},
		Facts:   [][2]string{{"影响范围", zhAffected}},
		Outro:   []string{`现场工作完成后我们将通知您。` + zhAsk},
	},
	"customer/service_report": {
		Subject: `{{if .Upstream}}【上门服务】影响贵方设备的故障现场处理已完成{{else}}【服务报告】{{if .Site}}{{.Site}} {{end}}现场服务已完成{{end}}（{{.ID}}）`,
		Heading: `现场服务已完成`,
		Body:    []string{`{{if .Upstream}}我们的工程师已完成贵方设备上游网络的现场处理工作。{{else}}我们的工程师{{if .ReportBy}} {{.ReportBy}} {{end}}已完成 {{.Device}} 的现场服务。以下是{{if .SignedBy}}经 {{.SignedBy}} 签字确认的{{end}}服务报告。{{end}}`},
		Facts: [][2]string{
			{"服务内容", `{{.Work}}`},
			{"更换部件", `{{.Parts}}`},
			{"签字人", `{{.SignedBy}}`},
		},
		Outro: []string{`故障解决后我们将通知您。{{if not .Upstream}}如报告内容有误，请回复本邮件并注明工单号 {{.ID}}。{{else}}` + zhAsk + `{{end}}`},
	},

	"staff/opened": {
		Subject: zhStaffSub + `新工单：{{.Title}}`,
		Heading: `新工单 {{.ID}}：{{.Title}}`,
		Body:    []string{`{{.Note}}`},
	},
	"staff/impact_added": {
		Subject: zhStaffSub + `影响范围扩大：{{.Device}} 后方 {{.Impacted}} 台设备中断`,
		Heading: `{{.ID}}：{{.Device}} 后方更多设备中断`,
		Body:    []string{`{{.Note}}`},
	},
	"staff/priority_raised": {
		Subject: zhStaffSub + `优先级提升至 {{.Priority}}：{{.Title}}`,
		Heading: `{{.ID}} 优先级已提升至 {{.Priority}}`,
		Body:    []string{`{{.Note}}`},
	},
	"staff/reopened": {
		Subject: zhStaffSub + `重新打开：{{.Title}}`,
		Heading: `{{.ID}} 已重新打开`,
		Body:    []string{`由 {{.Actor}} 重新打开{{if .Note}}：{{.Note}}{{end}}。`},
	},
	"staff/resolved": {
		Subject: zhStaffSub + `已解决：{{.Title}}`,
		Heading: `{{.ID}} 已解决`,
		Body:    []string{`由 {{.Actor}} 解决{{if .Note}}：{{.Note}}{{end}}。`},
		Facts:   [][2]string{{"原因", `{{.Cause}}`}, {"解决方案", `{{.Solution}}`}, {"持续时间", `{{.Duration}}`}},
	},
	"staff/escalated": {
		Subject: zhStaffSub + `已升级至 {{.Tier}}：{{.Title}}`,
		Heading: `{{.ID}} 已升级至 {{.Tier}}`,
		Body: []string{
			`由 {{.Actor}} 升级至 {{.Tier}}{{if .Note}}：{{.Note}}{{end}}。`,
			`{{if and .IsManager (eq .Tier "L3")}}工单已升级至经理层级，请接手或重新指派。{{end}}`,
		},
	},
	"staff/reminder": {
		Subject: zhStaffSub + `提醒：{{.Title}} 长时间无进展记录`,
		Heading: `提醒：{{.ID}} 需要填写进展`,
		Body: []string{
			`{{.Note}}`,
			`{{if .IsManager}}处理人尚未记录进展，请跟进{{if .Assignee}} {{.Assignee}}{{end}}。{{else}}请填写进展备注或升级工单。{{end}}`,
		},
	},
	"staff/assigned": {
		Subject: zhStaffSub + `已指派给 {{.Assignee}}：{{.Title}}`,
		Heading: `{{.ID}} 已指派给 {{.Assignee}}`,
		Body: []string{
			`由 {{.Actor}} 指派给 {{.Assignee}}{{if .Note}}（{{.Note}}）{{end}}。`,
			`{{if not .IsManager}}请在响应时限内确认。{{end}}`,
		},
	},
	"staff/closed": {
		Subject: zhStaffSub + `已关闭：{{.Title}}`,
		Heading: `{{.ID}} 已关闭`,
		Body:    []string{`由 {{.Actor}} 关闭{{if .Note}}：{{.Note}}{{end}}。`},
		Facts:   [][2]string{{"原因", `{{.Cause}}`}, {"解决方案", `{{.Solution}}`}},
	},
	"staff/cancelled": {
		Subject: zhStaffSub + `已取消：{{.Title}}`,
		Heading: `{{.ID}} 已取消`,
		Body:    []string{`由 {{.Actor}} 取消{{if .Note}}：{{.Note}}{{end}}。`},
	},
	"staff/service_mode": {
		Subject: zhStaffSub + `{{or .ModeName "服务方式变更"}}{{if .Appointment}} {{.Appointment}}{{end}}：{{.Title}}`,
		Heading: `{{.ID}}：{{if eq .Mode "on_site"}}已预约上门服务{{else}}处理方式为{{or .ModeName "未知方式"}}{{end}}`,
		Body:    []string{`由 {{.Actor}} 将服务方式设为{{or .ModeName "未知方式"}}{{if .Note}}：{{.Note}}{{end}}。`},
		Facts:   [][2]string{{"服务方式", `{{.ModeName}}`}, {"预约时间", `{{.Appointment}}`}},
	},
	"staff/arrived": {
		Subject: zhStaffSub + `工程师已到场：{{.Title}}`,
		Heading: `{{.ID}}：{{or .ArrivedBy "工程师"}} 已到场`,
		Body:    []string{`{{or .ArrivedBy .Actor}} 于 {{.ArrivedAt}} 到达现场{{if .Late}}，比预约时间晚 {{.Late}}{{end}}{{if .Note}}：{{.Note}}{{end}}。`},
		Facts:   [][2]string{{"预约时间", `{{.Appointment}}`}, {"到场时间", `{{.ArrivedAt}}`}},
	},
	"staff/service_report": {
		Subject: zhStaffSub + `已提交服务报告：{{.Title}}`,
		Heading: `{{.ID}}：{{.ReportBy}} 提交的服务报告`,
		Body:    []string{`{{.ReportBy}} 于 {{.At}} 提交了现场服务报告。`},
		Facts: [][2]string{
			{"服务内容", `{{.Work}}`},
			{"更换部件", `{{.Parts}}`},
			{"签字人", `{{.SignedBy}}{{if .SignedBy}}（客户）{{end}}`},
			{"到场时间", `{{.ArrivedAt}}{{if .ArrivedBy}}（{{.ArrivedBy}}）{{end}}`},
		},
	},
}, [][2]string{
	{"设备", `{{.Device}}{{if .Address}}（{{.Address}}）{{end}}{{if .DeviceDesc}}，{{.DeviceDesc}}{{end}}`},
	{"站点", `{{.Site}}`},
	{"客户", `{{or .Customer .CustomerID}}{{if and .Customer .CustomerID}}（{{.CustomerID}}）{{end}}{{if .Contract}}，合同 {{.Contract}}{{end}}`},
	{"工单", `{{.Priority}} · {{.Category}} · {{.State}}{{if .Source}} · {{.Source}}{{end}}`},
	{"处理人", `{{or .Assignee "未指派"}}{{if .Tier}} · {{.Tier}}{{end}}`},
	{"开始时间", `{{.Since}}`},
	{"响应时限", `{{.SLAResponse}}`},
	{"解决时限", `{{.SLARepair}}`},
	{"受影响设备", `{{if .Devices}}{{.Impacted}} 台中断，{{.Recovered}} 台已恢复（见下方列表）{{end}}`},
	{"通知对象", `{{.Recipients}}`},
},
	`工单号：{{.ID}}`,
	`尊敬的{{or .Customer "客户"}}：`,
	`{{if and .IsCustomer .Upstream}}贵方受影响的设备{{else}}{{.Device}} 后方中断的设备{{end}}`,
	`监控证据`,
)

var vocabZH = vocab{
	serial: "（序列号 %s）", recovered: "（已恢复%s）", firing: "告警中",
	days: "%d 天", hours: "%d 小时", minutes: "%d 分钟", durSep: " ", lessThanMinute: "不到 1 分钟",
	clockDue:             "目标 %s，截止 %s（剩余 %s）",
	clockPaused:          "目标 %s，已暂停（剩余 %s）",
	clockMet:             "目标 %s，已于 %s 达成",
	clockBreached:        "目标 %s，已超时 %s",
	clockBreachedStopped: "目标 %s，未达成（%s 停止）",
	modes: map[ticketing.ServiceMode]string{
		ticketing.ModeOnSite: "上门服务", ticketing.ModeRemoteGuidance: "远程指导", ticketing.ModeRemoteLogin: "远程登录",
	},
}

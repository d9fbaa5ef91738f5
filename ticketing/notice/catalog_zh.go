package notice

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
		Outro: []string{`我们将继续监控贵方网络，确保故障不再复发。如仍有问题，请回复本邮件并注明工单号 {{.ID}}；如无问题，请在收到确认请求时予以确认。`},
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
}

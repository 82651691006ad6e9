<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>AddPhoneDialog</name>
    <message>
        <source>Add a phone</source>
        <translation>添加手机</translation>
    </message>
    <message>
        <source>Add a phone or tablet</source>
        <translation>添加手机或平板</translation>
    </message>
    <message>
        <source>On the phone, open Appbeam and tap &lt;b&gt;Pair with a computer&lt;/b&gt;. Then scan this code, or type the letters below it. The phone joins your account and trusts this computer: apps you send to it with Install now install by themselves.</source>
        <translation>在手机上打开 Appbeam，点按&lt;b&gt;与电脑配对&lt;/b&gt;，然后扫描此二维码，或输入下方的字母。手机会加入你的账户并信任这台电脑：你用“立即安装”推送给它的应用会自动安装。</translation>
    </message>
    <message>
        <source>Making a code…</source>
        <translation>正在生成配对码…</translation>
    </message>
    <message>
        <source>New code</source>
        <translation>新配对码</translation>
    </message>
    <message>
        <source>Done</source>
        <translation>完成</translation>
    </message>
    <message>
        <source>This code has expired. Click New code for another one.</source>
        <translation>此配对码已过期。请点击“新配对码”获取新的配对码。</translation>
    </message>
    <message numerus="yes">
        <source>Works once, for the next %n minute(s).</source>
        <translation>
            <numerusform>仅可使用一次，%n 分钟内有效。</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>AddingAPhone</name>
    <message>
        <source>Sign this computer in first: click the account chip in the toolbar.</source>
        <translation>请先让这台电脑登录：点击工具栏中的账户标签。</translation>
    </message>
    <message>
        <source>No code this time. {reason}</source>
        <translation>这次未能生成配对码。{reason}</translation>
    </message>
</context>
<context>
    <name>BrowserView</name>
    <message>
        <source>Send to device...</source>
        <translation>推送到设备…</translation>
    </message>
</context>
<context>
    <name>ChoosingDevices</name>
    <message>
        <source>{file} is not an app package Appbeam knows (apk, ipa, deb, AppImage, …).</source>
        <translation>{file} 不是 Appbeam 认识的应用安装包（apk、ipa、deb、AppImage…）。</translation>
    </message>
    <message>
        <source>One app at a time: send the others after this one.</source>
        <translation>一次只能推送一个应用：请在这个之后再推送其他应用。</translation>
    </message>
    <message>
        <source>The page asked to send an app, but its install information is unusable: {reason}</source>
        <translation>此页面请求推送应用，但其安装信息无法使用：{reason}</translation>
    </message>
    <message>
        <source>This computer is not signed in to a relay yet. Click the account chip in the toolbar to sign in.</source>
        <translation>这台电脑还没有登录中继。请点击工具栏中的账户标签登录。</translation>
    </message>
</context>
<context>
    <name>DevicePicker</name>
    <message>
        <source>A friend&apos;s device only gets a notice: its owner decides whether to install.</source>
        <translation>好友的设备只会收到通知：是否安装由其主人决定。</translation>
    </message>
    <message>
        <source>Close (Esc)</source>
        <translation>关闭 (Esc)</translation>
    </message>
    <message>
        <source>SEND TO</source>
        <translation>推送到</translation>
    </message>
    <message>
        <source>Choose one or more devices</source>
        <translation>选择一台或多台设备</translation>
    </message>
    <message>
        <source>Try again</source>
        <translation>重试</translation>
    </message>
    <message>
        <source>Download to this computer</source>
        <translation>下载到这台电脑</translation>
    </message>
    <message>
        <source>Send, I&apos;ll install it myself</source>
        <translation>推送，我自己安装</translation>
    </message>
    <message>
        <source>Install now on my device</source>
        <translation>在我的设备上立即安装</translation>
    </message>
    <message>
        <source>Not for a phone?</source>
        <translation>不是给手机用的？</translation>
    </message>
    <message>
        <source>Version {version}</source>
        <translation>版本 {version}</translation>
    </message>
    <message>
        <source>from {site}</source>
        <translation>来自 {site}</translation>
    </message>
    <message>
        <source>Runs on {runtime}</source>
        <translation>运行环境：{runtime}</translation>
    </message>
    <message>
        <source>Asking the relay for your devices…</source>
        <translation>正在向中继获取你的设备…</translation>
    </message>
    <message>
        <source>You have no other devices yet. Install the Appbeam receiver on your phone and log in with the same account, or download the app to this computer instead.</source>
        <translation>你还没有其他设备。请在手机上安装 Appbeam 接收端并用同一账户登录，或者把应用下载到这台电脑。</translation>
    </message>
    <message>
        <source>None of your devices can install this app ({reasons}). You can download it to this computer instead.</source>
        <translation>你的设备都无法安装此应用（{reasons}）。你可以改为把它下载到这台电脑。</translation>
    </message>
    <message>
        <source>None of your devices can install this app. You can download it to this computer instead.</source>
        <translation>你的设备都无法安装此应用。你可以改为把它下载到这台电脑。</translation>
    </message>
    <message>
        <source>Sending…</source>
        <translation>正在推送…</translation>
    </message>
    <message>
        <source>Uploading {size} to your relay… {percent}</source>
        <translation>正在将 {size} 上传到你的中继… {percent}</translation>
    </message>
    <message>
        <source>Uploading… {percent}</source>
        <translation>正在上传… {percent}</translation>
    </message>
    <message>
        <source>Uploaded {size}. Sending…</source>
        <translation>已上传 {size}。正在推送…</translation>
    </message>
    <message>
        <source>Uploading {size} to your relay…</source>
        <translation>正在将 {size} 上传到你的中继…</translation>
    </message>
    <message>
        <source>Uploading to your relay…</source>
        <translation>正在上传到你的中继…</translation>
    </message>
    <message>
        <source>Uploading…</source>
        <translation>正在上传…</translation>
    </message>
    <message>
        <source>Not sent: {reason}</source>
        <translation>未推送：{reason}</translation>
    </message>
    <message>
        <source>The device downloads and installs it right away.</source>
        <translation>设备会立即下载并安装。</translation>
    </message>
    <message>
        <source>The device shows a notice; you install it when you choose.</source>
        <translation>设备会显示一条通知，由你决定何时安装。</translation>
    </message>
    <message numerus="yes">
        <source>%n selected</source>
        <translation>
            <numerusform>已选择 %n 台</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>DeviceRow</name>
    <message>
        <source>unknown</source>
        <translation>未知</translation>
    </message>
    <message>
        <source>never seen online</source>
        <translation>从未在线</translation>
    </message>
    <message>
        <source>last seen a while ago</source>
        <translation>上次在线：一段时间前</translation>
    </message>
    <message>
        <source>last seen just now</source>
        <translation>上次在线：刚刚</translation>
    </message>
    <message numerus="yes">
        <source>last seen %n min ago</source>
        <translation>
            <numerusform>上次在线：%n 分钟前</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>last seen %n h ago</source>
        <translation>
            <numerusform>上次在线：%n 小时前</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>last seen %n day(s) ago</source>
        <translation>
            <numerusform>上次在线：%n 天前</numerusform>
        </translation>
    </message>
    <message>
        <source>Installed</source>
        <translation>已安装</translation>
    </message>
    <message>
        <source>Has a newer version ({version})</source>
        <translation>已有更新的版本（{version}）</translation>
    </message>
    <message>
        <source>Update from {installed} to {offered}</source>
        <translation>从 {installed} 更新到 {offered}</translation>
    </message>
    <message>
        <source>Update available</source>
        <translation>有可用更新</translation>
    </message>
    <message>
        <source>{platform} installs {wanted}; this app comes as {formats}</source>
        <translation>{platform} 安装的是 {wanted}；这个应用提供的是 {formats}</translation>
    </message>
    <message>
        <source>{owner}&apos;s device</source>
        <translation>{owner} 的设备</translation>
    </message>
    <message>
        <source>Online</source>
        <extracomment>(&quot;Installed&quot;, True) / (&quot;Update from 3.5 to 3.6&quot;, False) / None, from what the device reported.</extracomment>
        <translation>在线</translation>
    </message>
    <message>
        <source>Offline</source>
        <translation>离线</translation>
    </message>
    <message>
        <source>Can&apos;t install it: {reason}</source>
        <translation>无法安装：{reason}</translation>
    </message>
    <message>
        <source>no package for this device</source>
        <translation>没有适合此设备的安装包</translation>
    </message>
    <message>
        <source>Offline: the relay keeps the app and delivers it when the device is back.</source>
        <translation>离线：中继会保存此应用，等设备上线后再送达。</translation>
    </message>
</context>
<context>
    <name>DownloadsIndicator</name>
    <message>
        <source>Saving {file}…</source>
        <translation>正在保存 {file}…</translation>
    </message>
    <message>
        <source>Saving {file}: {done} of {total}</source>
        <translation>正在保存 {file}：{done} / {total}</translation>
    </message>
    <message>
        <source>Saved {file} to {folder}</source>
        <translation>已将 {file} 保存到 {folder}</translation>
    </message>
    <message>
        <source>Download of {file} failed: {reason}</source>
        <translation>{file} 下载失败：{reason}</translation>
    </message>
</context>
<context>
    <name>FollowingPushes</name>
    <message>
        <source>Can&apos;t load your pushes: {reason}</source>
        <translation>无法加载你的推送：{reason}</translation>
    </message>
    <message>
        <source>The relay signed this computer out. Click the account chip to sign in again.</source>
        <translation>中继已让这台电脑退出登录。请点击账户标签重新登录。</translation>
    </message>
    <message>
        <source>Live updates stopped. {reason}</source>
        <translation>实时更新已停止。{reason}</translation>
    </message>
    <message>
        <source>Not sent again. {reason}</source>
        <translation>未能重新推送。{reason}</translation>
    </message>
    <message>
        <source>Can&apos;t cancel: {reason}</source>
        <translation>无法取消：{reason}</translation>
    </message>
</context>
<context>
    <name>Formats</name>
    <message>
        <source>{number} B</source>
        <comment>bytes</comment>
        <translation>{number} 字节</translation>
    </message>
    <message>
        <source>just now</source>
        <translation>刚刚</translation>
    </message>
    <message numerus="yes">
        <source>%n min ago</source>
        <translation>
            <numerusform>%n 分钟前</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n h ago</source>
        <translation>
            <numerusform>%n 小时前</numerusform>
        </translation>
    </message>
    <message>
        <source>dd MMM yyyy</source>
        <comment>date of a push, QLocale pattern</comment>
        <translation>yyyy年M月d日</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Appbeam</source>
        <extracomment>Chromium&apos;s net::ERR_ABORTED: a navigation that was stopped (it became a download, or the user stopped it), which is no failure to report.</extracomment>
        <translation>Appbeam</translation>
    </message>
    <message>
        <source>Pushes</source>
        <translation>推送</translation>
    </message>
    <message>
        <source>Show or hide the Pushes panel (Ctrl+P)</source>
        <translation>显示或隐藏推送面板 (Ctrl+P)</translation>
    </message>
    <message>
        <source>Navigation</source>
        <translation>导航</translation>
    </message>
    <message>
        <source>Back (Alt+Left)</source>
        <translation>后退 (Alt+Left)</translation>
    </message>
    <message>
        <source>Forward (Alt+Right)</source>
        <translation>前进 (Alt+Right)</translation>
    </message>
    <message>
        <source>Reload (F5)</source>
        <translation>重新加载 (F5)</translation>
    </message>
    <message>
        <source>The relay&apos;s store</source>
        <translation>中继的应用商店</translation>
    </message>
    <message>
        <source>Search the store or type an address</source>
        <translation>搜索商店或输入网址</translation>
    </message>
    <message>
        <source>Not signed in</source>
        <translation>未登录</translation>
    </message>
    <message>
        <source>The account and the name of this computer on the relay</source>
        <translation>中继上的账户和这台电脑的名称</translation>
    </message>
    <message>
        <source>Send a file</source>
        <translation>推送文件</translation>
    </message>
    <message>
        <source>Send an app package on this computer (or drop it on the window)</source>
        <translation>推送这台电脑上的应用安装包（或将它拖到窗口上）</translation>
    </message>
    <message>
        <source>Add a phone</source>
        <translation>添加手机</translation>
    </message>
    <message>
        <source>Sign a phone or tablet in to this account with a QR code, no password</source>
        <translation>用二维码让手机或平板登录此账户，无需密码</translation>
    </message>
    <message>
        <source>People</source>
        <translation>联系人</translation>
    </message>
    <message>
        <source>Friends, invitations and your devices (rename, remove)</source>
        <translation>好友、邀请和你的设备（重命名、移除）</translation>
    </message>
    <message>
        <source>Send an app to your phone</source>
        <translation>把应用推送到手机</translation>
    </message>
    <message>
        <source>App packages ({patterns});;All files (*)</source>
        <translation>应用安装包 ({patterns});;所有文件 (*)</translation>
    </message>
    <message>
        <source>The page could not be loaded. Check the address and your connection.</source>
        <translation>无法加载此页面。请检查网址和网络连接。</translation>
    </message>
    <message>
        <source>{page} – Appbeam</source>
        <translation>{page} – Appbeam</translation>
    </message>
</context>
<context>
    <name>PackageLink</name>
    <message>
        <source>{file} is no longer on this computer.</source>
        <extracomment>schema.org types that describe an installable app.</extracomment>
        <translation>{file} 已不在这台电脑上。</translation>
    </message>
    <message>
        <source>Appbeam can&apos;t read {file}. Check that you may open it.</source>
        <translation>Appbeam 无法读取 {file}。请检查你是否有权打开它。</translation>
    </message>
</context>
<context>
    <name>PeopleAndDevices</name>
    <message>
        <source>Invitation sent to {username}.</source>
        <translation>已向 {username} 发送邀请。</translation>
    </message>
    <message>
        <source>You and {username} are friends now.</source>
        <translation>你和 {username} 现在是好友了。</translation>
    </message>
    <message>
        <source>Renamed.</source>
        <translation>已重命名。</translation>
    </message>
    <message>
        <source>Removed: it is signed out and gets no more apps.</source>
        <translation>已移除：它已退出登录，不会再收到应用。</translation>
    </message>
    <message>
        <source>Sign this computer in first: click the account chip.</source>
        <translation>请先让这台电脑登录：点击账户标签。</translation>
    </message>
</context>
<context>
    <name>PeopleDialog</name>
    <message>
        <source>Friend: you can send each other apps (as notices)</source>
        <extracomment>What each friendship status means to a person.</extracomment>
        <translation>好友：你们可以互相推送应用（以通知形式）</translation>
    </message>
    <message>
        <source>Wants to be your friend</source>
        <translation>想加你为好友</translation>
    </message>
    <message>
        <source>Invited: waiting for them to accept</source>
        <translation>已邀请：等待对方接受</translation>
    </message>
    <message>
        <source>People and devices</source>
        <translation>联系人和设备</translation>
    </message>
    <message>
        <source>Their Appbeam username</source>
        <extracomment>Asks the user for text or a yes/no; tests give their own answers.</extracomment>
        <translation>对方的 Appbeam 用户名</translation>
    </message>
    <message>
        <source>Invite</source>
        <translation>邀请</translation>
    </message>
    <message>
        <source>Friends</source>
        <translation>好友</translation>
    </message>
    <message>
        <source>Friends can send apps to each other&apos;s devices; those arrive as notices, never install by themselves.</source>
        <translation>好友之间可以把应用推送到对方的设备；这些应用以通知形式送达，绝不会自动安装。</translation>
    </message>
    <message>
        <source>Your devices</source>
        <translation>你的设备</translation>
    </message>
    <message>
        <source>Done</source>
        <translation>完成</translation>
    </message>
    <message>
        <source>No friends yet. Invite someone by their username.</source>
        <translation>还没有好友。输入用户名邀请对方吧。</translation>
    </message>
    <message>
        <source>Accept</source>
        <translation>接受</translation>
    </message>
    <message>
        <source>Decline</source>
        <translation>拒绝</translation>
    </message>
    <message>
        <source>Withdraw</source>
        <translation>撤回</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <source>this computer</source>
        <translation>这台电脑</translation>
    </message>
    <message>
        <source>online</source>
        <translation>在线</translation>
    </message>
    <message>
        <source>offline</source>
        <translation>离线</translation>
    </message>
    <message>
        <source>Rename</source>
        <translation>重命名</translation>
    </message>
    <message>
        <source>Type the username of the person to invite.</source>
        <translation>请输入要邀请的人的用户名。</translation>
    </message>
    <message>
        <source>Remove {username} from your friends? You will no longer send each other apps.</source>
        <translation>要把 {username} 从好友中移除吗？你们将无法再互相推送应用。</translation>
    </message>
    <message>
        <source>Withdraw your invitation to {username}?</source>
        <translation>要撤回对 {username} 的邀请吗？</translation>
    </message>
    <message>
        <source>A new name for {device}:</source>
        <translation>{device} 的新名称：</translation>
    </message>
    <message>
        <source>Remove {device}? It is signed out at once and gets no more apps until it signs in again.</source>
        <translation>要移除 {device} 吗？它会立即退出登录，重新登录之前不会再收到应用。</translation>
    </message>
</context>
<context>
    <name>PushRow</name>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Resend</source>
        <translation>重新推送</translation>
    </message>
    <message>
        <source>Send this app to this device again</source>
        <translation>再次把此应用推送到这台设备</translation>
    </message>
    <message>
        <source>Install now</source>
        <translation>立即安装</translation>
    </message>
    <message>
        <source>Notice</source>
        <translation>通知</translation>
    </message>
    <message>
        <source>Notice (friend&apos;s device)</source>
        <translation>通知（好友的设备）</translation>
    </message>
    <message>
        <source>→ {device} ({owner}&apos;s)</source>
        <translation>→ {device}（{owner} 的）</translation>
    </message>
</context>
<context>
    <name>PushState</name>
    <message>
        <source>Queued (device offline)</source>
        <translation>排队中（设备离线）</translation>
    </message>
    <message>
        <source>Sent</source>
        <translation>已推送</translation>
    </message>
    <message>
        <source>Delivered</source>
        <translation>已送达</translation>
    </message>
    <message>
        <source>Waiting for Wi-Fi</source>
        <translation>等待 Wi-Fi</translation>
    </message>
    <message>
        <source>Downloading</source>
        <translation>正在下载</translation>
    </message>
    <message>
        <source>Paused</source>
        <translation>已暂停</translation>
    </message>
    <message>
        <source>Verifying</source>
        <translation>正在校验</translation>
    </message>
    <message>
        <source>Installing</source>
        <translation>正在安装</translation>
    </message>
    <message>
        <source>Installed</source>
        <translation>已安装</translation>
    </message>
    <message>
        <source>Already installed</source>
        <translation>此前已安装</translation>
    </message>
    <message>
        <source>Declined</source>
        <translation>已拒绝</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <source>Expired</source>
        <translation>已过期</translation>
    </message>
    <message>
        <source>Asking about mobile data</source>
        <translation>正在询问是否使用移动数据</translation>
    </message>
    <message>
        <source>Waiting for the relay</source>
        <translation>等待中继</translation>
    </message>
    <message>
        <source>Waiting for the download server</source>
        <translation>等待下载服务器</translation>
    </message>
    <message>
        <source>No connection</source>
        <translation>无网络连接</translation>
    </message>
    <message>
        <source>Downloading {percent}</source>
        <translation>正在下载 {percent}</translation>
    </message>
    <message>
        <source>Failed: {reason}</source>
        <translation>失败：{reason}</translation>
    </message>
    <message>
        <source>Delivered, {detail}</source>
        <translation>已送达，{detail}</translation>
    </message>
</context>
<context>
    <name>PushesPanel</name>
    <message>
        <source>Pushes</source>
        <translation>推送</translation>
    </message>
    <message>
        <source>Not connected</source>
        <translation>未连接</translation>
    </message>
    <message>
        <source>Not connected: these may be out of date.</source>
        <translation>未连接：以下状态可能已过时。</translation>
    </message>
    <message>
        <source>Nothing sent yet.
Click a download in the store to send an app to your phone.</source>
        <translation>还没有推送任何应用。
在商店中点击下载，即可把应用推送到手机。</translation>
    </message>
    <message>
        <source>Clear finished</source>
        <translation>清除已完成</translation>
    </message>
    <message>
        <source>Hide the pushes that are done (installed, failed, cancelled…)</source>
        <translation>隐藏已结束的推送（已安装、失败、已取消…）</translation>
    </message>
    <message>
        <source>Live: states update as devices report</source>
        <translation>实时：状态随设备报告更新</translation>
    </message>
    <message>
        <source>Connecting to the relay…</source>
        <translation>正在连接中继…</translation>
    </message>
    <message>
        <source>Reconnecting to the relay…</source>
        <translation>正在重新连接中继…</translation>
    </message>
</context>
<context>
    <name>SentNotice</name>
    <message>
        <source>Show progress</source>
        <translation>查看进度</translation>
    </message>
    <message>
        <source>your device</source>
        <translation>你的设备</translation>
    </message>
    <message>
        <source>{app} is on its way to {devices}. Offline devices get it when they are back. Watch its progress in the Pushes panel.</source>
        <translation>{app} 正在推送到 {devices}。离线的设备上线后会收到。可在推送面板中查看进度。</translation>
    </message>
    <message>
        <source>{app} is on its way to {devices}. Watch its progress in the Pushes panel.</source>
        <translation>{app} 正在推送到 {devices}。可在推送面板中查看进度。</translation>
    </message>
</context>
<context>
    <name>SetupDialog</name>
    <message>
        <source>Connect to your relay</source>
        <translation>连接到你的中继</translation>
    </message>
    <message>
        <source>Send apps from this browser to your phone</source>
        <translation>从这个浏览器把应用推送到手机</translation>
    </message>
    <message>
        <source>Appbeam sends apps through your relay. Sign in with the account your phone uses; this computer is added to your devices.</source>
        <translation>Appbeam 通过你的中继推送应用。请用手机所用的账户登录，这台电脑会被添加到你的设备中。</translation>
    </message>
    <message>
        <source>Create this account on the relay</source>
        <translation>在中继上创建此账户</translation>
    </message>
    <message>
        <source>Relay address</source>
        <translation>中继地址</translation>
    </message>
    <message>
        <source>Username</source>
        <translation>用户名</translation>
    </message>
    <message>
        <source>Password</source>
        <translation>密码</translation>
    </message>
    <message>
        <source>This computer&apos;s name</source>
        <translation>这台电脑的名称</translation>
    </message>
    <message>
        <source>This computer&apos;s signing key. Your phones list it in Settings; compare before you trust it there.</source>
        <translation>这台电脑的签名密钥。你的手机会在“设置”中列出它；信任之前请先核对。</translation>
    </message>
    <message>
        <source>This computer&apos;s key</source>
        <translation>这台电脑的密钥</translation>
    </message>
    <message>
        <source>Sign in</source>
        <translation>登录</translation>
    </message>
    <message>
        <source>Later</source>
        <translation>稍后</translation>
    </message>
    <message>
        <source>Create account</source>
        <translation>创建账户</translation>
    </message>
    <message>
        <source>The relay address starts with http:// or https://</source>
        <translation>中继地址须以 http:// 或 https:// 开头</translation>
    </message>
    <message>
        <source>Enter your username and password.</source>
        <translation>请输入用户名和密码。</translation>
    </message>
</context>
<context>
    <name>SigningIn</name>
    <message>
        <source>Not signed in: start with --username and --password.</source>
        <translation>未登录：请使用 --username 和 --password 启动。</translation>
    </message>
</context>
</TS>

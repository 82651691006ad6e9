<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en" sourcelanguage="en">
<context>
    <name>AddPhoneDialog</name>
    <message numerus="yes">
        <source>Works once, for the next %n minute(s).</source>
        <translation>
            <numerusform>Works once, for the next %n minute.</numerusform>
            <numerusform>Works once, for the next %n minutes.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>DevicePicker</name>
    <message numerus="yes">
        <source>%n selected</source>
        <translation>
            <numerusform>%n selected</numerusform>
            <numerusform>%n selected</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>DeviceRow</name>
    <message numerus="yes">
        <source>last seen %n min ago</source>
        <translation>
            <numerusform>last seen %n min ago</numerusform>
            <numerusform>last seen %n min ago</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>last seen %n h ago</source>
        <translation>
            <numerusform>last seen %n h ago</numerusform>
            <numerusform>last seen %n h ago</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>last seen %n day(s) ago</source>
        <translation>
            <numerusform>last seen %n day ago</numerusform>
            <numerusform>last seen %n days ago</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>Formats</name>
    <message numerus="yes">
        <source>%n min ago</source>
        <translation>
            <numerusform>%n min ago</numerusform>
            <numerusform>%n min ago</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n h ago</source>
        <translation>
            <numerusform>%n h ago</numerusform>
            <numerusform>%n h ago</numerusform>
        </translation>
    </message>
</context>
</TS>

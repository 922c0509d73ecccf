<?php
// The autoloading Composer would do for gen/php, without Composer (there is no Packagist here):
// the PSR-4 map of gen/php/composer.json, so the test also proves that map loads every generated
// class (GPBMetadata included), and google/protobuf from Debian's php-google-protobuf
// (/usr/share/php, or RR_TCP_PHP_PROTOBUF). Then examples/php, as a worker would require it.

declare(strict_types=1);

$repo = dirname(__DIR__, 3);
$package = json_decode((string) file_get_contents("$repo/gen/php/composer.json"), true, 16, JSON_THROW_ON_ERROR);
$runtime = getenv('RR_TCP_PHP_PROTOBUF') ?: '/usr/share/php';

$prefixes = [];
foreach ($package['autoload']['psr-4'] as $prefix => $dir) {
    $prefixes[$prefix] = "$repo/gen/php/" . rtrim($dir, '/') . '/';
}
// google/protobuf's own composer.json maps these two prefixes to its src/ folder.
$prefixes['Google\\Protobuf\\'] = "$runtime/Google/Protobuf/";
$prefixes['GPBMetadata\\Google\\Protobuf\\'] = "$runtime/GPBMetadata/Google/Protobuf/";

spl_autoload_register(static function (string $class) use ($prefixes): void {
    foreach ($prefixes as $prefix => $dir) {
        if (strncmp($class, $prefix, strlen($prefix)) === 0) {
            $file = $dir . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
            if (is_file($file)) {
                require $file;
                return;
            }
        }
    }
});

require "$repo/examples/php/ProtoContext.php";
